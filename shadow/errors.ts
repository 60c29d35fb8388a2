/** `cutover shadow`'s error codes. */
export const SHADOW_ERR = {
  notCopy: 'CUTOVER_ERR_SHADOW_NOT_A_COPY',
} as const;
