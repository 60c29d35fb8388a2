/** Redis URLs, one rule per assertion: single servers, Sentinel, credentials, TLS, bad input naming the rule. */
import { describe, expect, it } from 'vitest';
import { parseRedisUrl } from '../../shared/state/redis-connection.js';
import { parseConfigText } from '../../shared/config.js';
import { openStateStore } from '../../shared/state/open.js';

describe('parseRedisUrl', () => {
  it('a single server: host, port, db, password; no replica confirmation unless asked', () => {
    const s = parseRedisUrl('redis://:s3cret@10.0.0.5:6380/2');
    expect(s.kind).toBe('single');
    expect(s.options).toMatchObject({ host: '10.0.0.5', port: 6380, db: 2, password: 's3cret' });
    expect(s.minReplicas).toBe(0);
    expect(s.label).not.toContain('s3cret');
    expect(parseRedisUrl('redis://127.0.0.1:6379/0?minReplicas=1')).toMatchObject({ minReplicas: 1, strictReplicas: true });
    expect(parseRedisUrl('rediss://h:1/0').options.tls).toEqual({});
  });

  it('Sentinel: every sentinel, the master name, the db, credentials for both, TLS for both', () => {
    const s = parseRedisUrl('rediss+sentinel://app:pw@h1:26379,h2,[::1]:26380/ledger-master/3?sentinelPassword=spw&sentinelUsername=sen&sentinelTls=true&tlsRejectUnauthorized=false&prefix=x');
    expect(s.kind).toBe('sentinel');
    expect(s.options).toMatchObject({
      sentinels: [
        { host: 'h1', port: 26379 },
        { host: 'h2', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'ledger-master',
      role: 'master',
      db: 3,
      username: 'app',
      password: 'pw',
      sentinelUsername: 'sen',
      sentinelPassword: 'spw',
      tls: { rejectUnauthorized: false },
      enableTLSForSentinelMode: true,
      failoverDetector: true,
    });
    expect(s.minReplicas).toBe(1);
    expect(s.strictReplicas).toBe(false);
    expect(s.label).toBe('rediss+sentinel://h1:26379,h2,[::1]:26380/ledger-master/3');
  });

  it('refuses what it cannot honour, naming the rule and hiding the password', () => {
    const cases: Array<[string, RegExp]> = [
      ['redis+sentinel://h1:26379,h2:26379', /names no master/],
      ['redis+sentinel://h1:26379/m/x', /the database must be a number, got "x"/],
      ['redis+sentinel://h1:26379/m/0/extra', /only \/MASTERNAME\/DB may follow/],
      ['redis://h1:6379,h2:6379/0', /names several hosts: list sentinels with redis\+sentinel/],
      ['redis://h1:99999/0', /port 99999 is out of range/],
      ['redis+sentinel://h1/m/0?sentinelTls=maybe', /\?sentinelTls must be true or false, got "maybe"/],
      ['redis+sentinel://:hunter2@h1/m/0?password=x', /unknown option \?password/],
    ];
    for (const [url, re] of cases) {
      let err: Error | undefined;
      try {
        parseRedisUrl(url);
      } catch (e) {
        err = e as Error;
      }
      expect(err?.message, url).toMatch(re);
      expect(err?.message).not.toContain('hunter2');
      expect((err as { exitCode?: number }).exitCode).toBe(2);
    }
  });

  it('the config takes a Sentinel URL for state, and names the field when it is wrong', () => {
    const ok = parseConfigText('upstreams: { legacy: http://a:1, v2: http://b:2 }\nstate: redis+sentinel://h1:26379,h2:26379/m/0\n', 't.yaml', {});
    expect(ok.state).toBe('redis+sentinel://h1:26379,h2:26379/m/0');
    expect(() => parseConfigText('upstreams: { legacy: http://a:1, v2: http://b:2 }\nstate: redis+sentinel://h1:26379\n', 't.yaml', {})).toThrow(/state: .*names no master/);
    expect(() => openStateStore('redis+sentinel://h1:26379')).toThrow(/names no master/);
  });
});
