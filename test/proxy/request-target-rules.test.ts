/**
 * The request-line and header-block rules and the method-override rule, as pure functions:
 * each limit at and over, each case variant, each form of target, each way a client can ask a
 * server to treat a request as another method. (The conformance tests send the same through
 * the real proxy on raw sockets.)
 */
import { describe, expect, it } from 'vitest';
import { headerBlockProblem, isSafeRequest, METHOD_OVERRIDE_HEADERS, originFormTarget, TARGET_ERR } from '../../proxy/request-target.js';

const fields = (...names: string[]) => names.flatMap((n, i) => [n, `v${i}`]);

describe('headerBlockProblem', () => {
  it('takes exactly maxHeaders fields and refuses one more with 431, saying how many', () => {
    const eight = fields('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h');
    expect(headerBlockProblem(eight, 8)).toBeNull();
    expect(headerBlockProblem([...eight, 'i', 'v'], 8)).toEqual({
      status: 431,
      code: TARGET_ERR.tooManyHeaders,
      message: 'the request has 9 header fields; this proxy takes at most 8',
    });
  });

  it('refuses a second Host in any letter case, and only Host', () => {
    for (const [a, b] of [
      ['Host', 'host'],
      ['host', 'host'],
      ['Host', 'Host'],
      ['HOST', 'hOsT'],
    ]) {
      expect(headerBlockProblem(fields(a!, 'x-other', b!), 100)).toEqual({ status: 400, code: TARGET_ERR.duplicateHost, message: 'the request has more than one Host header field' });
    }
    expect(headerBlockProblem(fields('Host', 'Date', 'date', 'From', 'from', 'hostname', 'x-host'), 100)).toBeNull();
  });
});

describe('originFormTarget', () => {
  it('passes origin form as it is, and "*" for OPTIONS only', () => {
    expect(originFormTarget('GET', '/a/b?c=1', 'h')).toBe('/a/b?c=1');
    expect(originFormTarget('OPTIONS', '*', 'h')).toBe('*');
    expect(originFormTarget('GET', '*', 'h')).toEqual({ status: 400, code: TARGET_ERR.badTarget, message: '"*" is a request target for OPTIONS only, not GET' });
  });

  it('rewrites absolute form to origin form when its host is the Host header (any case)', () => {
    expect(originFormTarget('GET', 'http://h:8080/a?b=1', 'h:8080')).toBe('/a?b=1');
    expect(originFormTarget('GET', 'HTTPS://Example.COM/a', 'example.com')).toBe('/a');
    expect(originFormTarget('GET', 'http://h', 'h')).toBe('/');
    expect(originFormTarget('GET', 'http://h?x=1', 'h')).toBe('/?x=1');
  });

  it('refuses targets that are neither a path nor an http(s) URL, naming the target', () => {
    for (const t of ['ftp://h/a', 'xhttp://h/a', 'http://h/a#frag', 'h/a']) {
      expect(originFormTarget('GET', t, 'h')).toEqual({ status: 400, code: TARGET_ERR.badTarget, message: `request target ${JSON.stringify(t)} is neither a path nor an http(s) URL` });
    }
  });

  it('quotes at most 200 characters of a target or host in its messages', () => {
    const long = 'x'.repeat(300);
    expect((originFormTarget('GET', `ftp://${long}`, 'h') as { message: string }).message).toBe(`request target ${JSON.stringify(`ftp://${long}`.slice(0, 200))} is neither a path nor an http(s) URL`);
    expect((originFormTarget('GET', `http://${long}/a`, `${long}y`) as { message: string }).message).toBe(
      `the request target names host ${JSON.stringify(long.slice(0, 200))} but the Host header says ${JSON.stringify(long.slice(0, 200))}`,
    );
  });

  it('refuses user information and a host other than the Host header, naming both', () => {
    expect(originFormTarget('GET', 'http://u:p@h/a', 'h')).toEqual({ status: 400, code: TARGET_ERR.badTarget, message: 'an absolute request target must not carry user information' });
    expect(originFormTarget('GET', 'http://evil/a', 'good')).toEqual({
      status: 400,
      code: TARGET_ERR.hostMismatch,
      message: 'the request target names host "evil" but the Host header says "good"',
    });
    expect(originFormTarget('GET', 'http://evil/a', undefined)).toEqual({
      status: 400,
      code: TARGET_ERR.hostMismatch,
      message: 'the request target names host "evil" but the Host header says ""',
    });
  });
});

describe('isSafeRequest', () => {
  const safe = (method: string, headers: Record<string, string | string[]> = {}, url = '/a') => isSafeRequest(method, headers, url, url.indexOf('?'));

  it('follows the method when nothing overrides it', () => {
    expect(safe('GET')).toBe(true);
    expect(safe('HEAD')).toBe(true);
    expect(safe('POST')).toBe(false);
    expect(safe('DELETE')).toBe(false);
  });

  it('takes every override header as the method it names, whatever its case and spaces', () => {
    for (const h of METHOD_OVERRIDE_HEADERS) {
      expect(safe('GET', { [h]: 'DELETE' })).toBe(false);
      expect(safe('GET', { [h]: ' get ' })).toBe(true);
      expect(safe('GET', { [h]: 'DELETE, GET' })).toBe(false);
      expect(safe('GET', { [h]: ['GET', 'HEAD'] })).toBe(true);
      expect(safe('GET', { [h]: ['GET', 'PUT'] })).toBe(false);
    }
    // the last header of the list counts as much as the first
    expect(safe('GET', { [METHOD_OVERRIDE_HEADERS[METHOD_OVERRIDE_HEADERS.length - 1]!]: 'PATCH' })).toBe(false);
  });

  it('takes a _method query parameter as the method it names, decoded, anywhere in the query', () => {
    expect(safe('GET', {}, '/a?_method=DELETE')).toBe(false);
    expect(safe('GET', {}, '/a?x=1&_method=delete')).toBe(false);
    expect(safe('GET', {}, '/a?_method=DEL%45TE')).toBe(false);
    expect(safe('GET', {}, '/a?_method=%E0%A4%A')).toBe(false); // not decodable: not a safe method either
    expect(safe('GET', {}, '/a?_method=GET')).toBe(true);
    expect(safe('GET', {}, '/a?x_method=DELETE')).toBe(true);
    expect(safe('GET', {}, '/a?x=1')).toBe(true);
    expect(safe('GET', {}, '/?_method=DELETE')).toBe(false);
    expect(safe('GET', {}, '/a?_method=G+ET')).toBe(false); // "G ET": not a method
    // in the path it is not a parameter
    expect(safe('GET', {}, '/a/_method=DELETE')).toBe(true);
    expect(safe('GET', {}, '/a/_method=DELETE?x=1')).toBe(true);
    expect(safe('GET', {}, '/a&_method=DELETE?x=1')).toBe(true);
    expect(safe('GET', {}, '/a&_method=DELETE?x_y=1')).toBe(true);
  });
});
