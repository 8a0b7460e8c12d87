import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, configMarkdownTable, loadConfig } from '../../src/platform/config/index.ts';
import { settings } from '../../src/platform/config/settings.ts';

/** Runs loadConfig and returns the ConfigError it must throw. */
function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig({ env, envFile: false });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('loadConfig accepted an invalid configuration');
}

describe('loadConfig', () => {
  describe('defaults', () => {
    it('when no variable is set, then every setting has its documented default', () => {
      const config = loadConfig({ env: {}, envFile: false });
      assert.deepEqual(config, {
        env: 'production',
        http: {
          host: '127.0.0.1',
          port: 3000,
          trustProxy: false,
          bodyLimitBytes: 102_400,
          requestTimeoutMs: 30_000,
          shutdownDrainDelayMs: 0,
          shutdownTimeoutMs: 10_000,
          keepAliveTimeoutMs: 72_000,
          maxHeadersCount: 100,
          authBodyLimitBytes: 16_384,
          corsOrigins: undefined,
          timeBudgetMs: 10_000,
          timeBudgetExpensiveMs: 30_000,
        },
        shedding: {
          maxInFlight: 512,
          maxInFlightExpensive: 25,
          maxEventLoopDelayMs: 1000,
          maxEventLoopUtilization: 0,
          maxHeapUsedMb: 0,
          maxRssMb: 0,
          sampleIntervalMs: 500,
        },
        log: { level: 'info' },
        tracing: {
          otlpEndpoint: undefined,
          otlpTracesEndpoint: undefined,
          sampler: 'parentbased_always_on',
          samplerArg: 1,
          serviceName: 'innkeep',
        },
        db: {
          url: undefined,
          dataDir: resolve('./.innkeep'),
          poolMax: 10,
          idleTimeoutMs: 10_000,
          connectTimeoutMs: 5_000,
          statementTimeoutMs: 5_000,
          readRetries: 2,
          slowQueryWarnMs: 1_000,
          slowQueryDebugMs: 500,
          migrateOnStart: true,
          seedOnEmpty: 'small',
          embeddedMaxDowntimeMs: 30_000,
        },
        metrics: {
          enabled: true,
          host: '127.0.0.1',
          port: 9464,
          token: undefined,
          nPlusOneWarnAt: undefined,
        },
        performance: {
          routeP95TargetMs: 500,
          seqScanMinRows: 10_000,
          unusedIndexMinAgeS: 604_800,
          poolWaitingMs: 60_000,
          eventLoopLagMs: 200,
        },
        redis: { url: undefined },
        cache: {
          enabled: true,
          prefix: 'innkeep',
          l1MaxMb: 64,
          l1MaxEntries: 50_000,
          ttl: { veryShort: 60, short: 300, medium: 1_800, long: 3_600, veryLong: 86_400 },
          compressMinBytes: 1_024,
          l2TimeoutMs: 250,
          l2BreakerMs: 5_000,
          warmup: { enabled: true, budgetMs: 10_000, hotels: 200, cities: 20 },
        },
        resilience: {
          failureThreshold: 5,
          halfOpenAfterMs: 30_000,
          successThreshold: 2,
          retries: 3,
          baseDelayMs: 1_000,
          maxDelayMs: 30_000,
          timeoutMs: 30_000,
          shared: undefined,
          overrides: undefined,
        },
        auth: {
          jwtSecret: undefined,
          accessTokenTtlS: 900,
          refreshTokenTtlDays: 30,
          loginMaxFailures: 5,
          loginMaxFailuresPerIp: 50,
          loginThrottleWindowS: 900,
        },
        rateLimit: {
          enabled: true,
          auth: { points: 20, durationS: 60 },
          read: { points: 600, durationS: 60 },
          write: { points: 120, durationS: 60 },
          admin: { points: 300, durationS: 60 },
          expensive: { points: 60, durationS: 60 },
          abuseThreshold: 100,
          blockS: 900,
        },
        role: 'all',
        queue: {
          driver: 'pgboss',
          namespace: 'innkeep_jobs',
          pollIntervalMs: 1000,
          stalledAfterS: 30,
          shutdownTimeoutMs: 25_000,
          timeZone: 'UTC',
          keepCompletedHours: 24,
          queues: {
            email: {
              concurrency: 3,
              attempts: 3,
              backoff: 'exponential',
              backoffMs: 5000,
              timeoutMs: 30000,
              ratePerSecond: 10,
            },
            processing: {
              concurrency: 5,
              attempts: 5,
              backoff: 'exponential',
              backoffMs: 10000,
              timeoutMs: 300000,
              ratePerSecond: 0,
            },
            scheduled: {
              concurrency: 2,
              attempts: 3,
              backoff: 'fixed',
              backoffMs: 60000,
              timeoutMs: 600000,
              ratePerSecond: 0,
            },
          },
        },
        mail: {
          smtpUrl: undefined,
          from: 'Innkeep <no-reply@innkeep.localhost>',
          poolMax: 3,
          publicUrl: 'http://localhost:3000',
        },
        waitlist: { offerHoldMinutes: 30 },
      });
    });

    it('when RESILIENCE_OVERRIDES names dependencies, then each gets its figures', () => {
      const config = loadConfig({
        env: {
          RESILIENCE_OVERRIDES: 'llm:failures=5,halfOpenAfterMs=60000,successes=3;payments:timeoutMs=10000',
        },
        envFile: false,
      });
      assert.deepEqual(config.resilience.overrides, {
        llm: { failures: 5, halfOpenAfterMs: 60_000, successes: 3 },
        payments: { timeoutMs: 10_000 },
      });
    });

    it('when RESILIENCE_OVERRIDES has an unknown key or a bad value, then loading fails naming it', () => {
      for (const text of [
        'llm:failure=5',
        'llm:failures=0',
        'LLM:timeoutMs=1',
        'llm:',
        'llm:sampleRatio=2',
        'a:retries=1;',
      ]) {
        const err = configError({ RESILIENCE_OVERRIDES: text });
        assert.equal(err.issues[0]?.variable, 'RESILIENCE_OVERRIDES', text);
      }
    });

    it('when a variable is set to the empty string, then its default is used', () => {
      const config = loadConfig({
        env: { PORT: '', LOG_LEVEL: '', DB_MIGRATE_ON_START: '' },
        envFile: false,
      });
      assert.equal(config.http.port, 3000);
      assert.equal(config.log.level, 'info');
      assert.equal(config.db.migrateOnStart, true);
    });

    it('when valid values are given, then they are parsed to their types', () => {
      const config = loadConfig({
        env: {
          NODE_ENV: 'production',
          PORT: '0',
          HOST: '0.0.0.0',
          LOG_LEVEL: 'silent',
          DATABASE_URL: 'postgresql://u:p@db.example:5432/app',
          DB_POOL_MAX: '25',
          DB_STATEMENT_TIMEOUT_MS: '0',
          INNKEEP_DATA_DIR: '/var/lib/innkeep',
          DB_SEED_ON_EMPTY: 'none',
        },
        envFile: false,
      });
      assert.equal(config.env, 'production');
      assert.equal(config.http.port, 0);
      assert.equal(config.http.host, '0.0.0.0');
      assert.equal(config.log.level, 'silent');
      assert.equal(config.db.url, 'postgresql://u:p@db.example:5432/app');
      assert.equal(config.db.poolMax, 25);
      assert.equal(config.db.statementTimeoutMs, 0);
      assert.equal(config.db.dataDir, '/var/lib/innkeep');
      assert.equal(config.db.seedOnEmpty, 'none');
    });
  });

  describe('invalid values', () => {
    const cases: { variable: string; value: string; message: RegExp }[] = [
      { variable: 'PORT', value: 'http', message: /whole number from 0 to 65535/ },
      { variable: 'PORT', value: '70000', message: /whole number from 0 to 65535/ },
      { variable: 'PORT', value: '80.5', message: /whole number/ },
      {
        variable: 'LOG_LEVEL',
        value: 'verbose',
        message: /must be one of fatal, error, warn, info, debug, trace, silent/,
      },
      { variable: 'DB_POOL_MAX', value: '0', message: /whole number from 1 to 1000/ },
      { variable: 'DB_POOL_MAX', value: 'ten', message: /whole number from 1 to 1000/ },
      { variable: 'DATABASE_URL', value: 'mysql://localhost/app', message: /must match/ },
      { variable: 'TRUST_PROXY', value: 'maybe', message: /must be true or false/ },
      { variable: 'DB_MIGRATE_ON_START', value: '2', message: /must be true or false/ },
    ];
    for (const c of cases) {
      it(`when ${c.variable}=${JSON.stringify(c.value)}, then a ConfigError names ${c.variable}`, () => {
        const err = configError({ [c.variable]: c.value });
        assert.equal(err.name, 'ConfigError');
        assert.equal(err.code, 'E_CONFIG');
        assert.equal(err.issues.length, 1);
        const [issue] = err.issues;
        assert.equal(issue?.variable, c.variable);
        assert.equal(issue?.value, c.value);
        assert.match(issue?.message ?? '', c.message);
        assert.ok(err.message.includes(`${c.variable}=${JSON.stringify(c.value)}`), err.message);
      });
    }

    it('when several variables are invalid, then all of them are reported in one error', () => {
      const err = configError({
        PORT: '-1',
        LOG_LEVEL: 'loud',
        DB_POOL_MAX: '5000',
        DATABASE_URL: 'localhost:5432',
        TRUST_PROXY: 'perhaps',
        HOST: '127.0.0.1',
      });
      assert.deepEqual(err.issues.map((i) => i.variable).sort(), [
        'DATABASE_URL',
        'DB_POOL_MAX',
        'LOG_LEVEL',
        'PORT',
        'TRUST_PROXY',
      ]);
      for (const variable of ['PORT', 'LOG_LEVEL', 'DB_POOL_MAX', 'DATABASE_URL', 'TRUST_PROXY']) {
        assert.ok(err.message.includes(`${variable}=`), `message names ${variable}: ${err.message}`);
      }
      assert.ok(!err.message.includes('HOST'), 'a valid variable is not reported');
    });
  });

  describe('booleans', () => {
    const accepted: [string, boolean][] = [
      ['true', true],
      ['false', false],
      ['1', true],
      ['0', false],
      ['TRUE', true],
      [' False ', false],
    ];
    for (const [text, expected] of accepted) {
      it(`when TRUST_PROXY=${JSON.stringify(text)}, then it is ${expected}`, () => {
        const config = loadConfig({ env: { TRUST_PROXY: text, DB_MIGRATE_ON_START: text }, envFile: false });
        assert.equal(config.http.trustProxy, expected);
        assert.equal(config.db.migrateOnStart, expected);
      });
    }
  });

  describe('.env file', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'innkeep-config-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('when an .env file is given, then its values are merged under the real variables', async () => {
      const file = join(dir, '.env');
      await writeFile(
        file,
        ['PORT=4000', 'LOG_LEVEL=debug', '# a comment', 'DB_POOL_MAX="7"', ''].join('\n'),
      );
      const config = loadConfig({ env: { PORT: '5000' }, envFile: file });
      assert.equal(config.http.port, 5000, 'the real variable wins');
      assert.equal(config.log.level, 'debug', 'the file fills in what is not set');
      assert.equal(config.db.poolMax, 7);
    });

    it('when the .env file holds an invalid value, then it is reported like a real variable', async () => {
      const file = join(dir, 'bad.env');
      await writeFile(file, 'LOG_LEVEL=chatty\n');
      assert.throws(
        () => loadConfig({ env: {}, envFile: file }),
        (err: unknown) => err instanceof ConfigError && err.issues.some((i) => i.variable === 'LOG_LEVEL'),
      );
    });

    it('when the .env file does not exist, then the defaults apply', () => {
      const config = loadConfig({ env: {}, envFile: join(dir, 'missing.env') });
      assert.equal(config.http.port, 3000);
    });

    it('when envFile is false, then no file is read', async () => {
      const file = join(dir, '.env');
      await writeFile(file, 'PORT=4000\n');
      const cwd = process.cwd();
      process.chdir(dir);
      try {
        assert.equal(loadConfig({ env: {}, envFile: false }).http.port, 3000);
        assert.equal(loadConfig({ env: {} }).http.port, 4000, 'the default envFile is ./.env');
      } finally {
        process.chdir(cwd);
      }
    });
  });

  describe('immutability', () => {
    it('when a loaded config is assigned to, then it throws in strict mode', () => {
      const config = loadConfig({ env: {}, envFile: false });
      assert.ok(Object.isFrozen(config));
      assert.ok(Object.isFrozen(config.http));
      assert.ok(Object.isFrozen(config.db));
      assert.throws(() => {
        (config.http as { port: number }).port = 1;
      }, TypeError);
      assert.throws(() => {
        (config as { env: string }).env = 'production';
      }, TypeError);
      assert.throws(() => {
        (config.db as { poolMax: number }).poolMax = 99;
      }, TypeError);
      assert.equal(config.http.port, 3000);
      assert.equal(config.db.poolMax, 10);
    });
  });
});

describe('settings', () => {
  it('when the rows are declared, then no two share a variable or a place in the config', () => {
    const envs = settings.map((s) => s.env);
    const paths = settings.map((s) => s.path);
    assert.equal(new Set(envs).size, envs.length, `duplicate variable in ${envs.join(', ')}`);
    assert.equal(new Set(paths).size, paths.length, `duplicate path in ${paths.join(', ')}`);
    // A path that is a prefix of another would replace that row's object with a value.
    for (const p of paths) assert.ok(!paths.some((q) => q.startsWith(`${p}.`)), `${p} is also a parent`);
  });
});

describe('configMarkdownTable', () => {
  it('when rendered, then it has a header and exactly one row per setting', () => {
    const lines = configMarkdownTable().split('\n');
    assert.equal(lines[0], '| Variable | Default | Meaning |');
    assert.equal(lines[1], '|---|---|---|');
    assert.equal(lines.length, settings.length + 2);
    assert.ok(settings.length >= 20);
  });

  it('when rendered, then every variable appears with its default', () => {
    const table = configMarkdownTable();
    for (const s of settings) {
      const row = table.split('\n').find((line) => line.startsWith(`| \`${s.env}\` |`));
      assert.ok(row, `row for ${s.env}`);
      const expectedDefault = s.default === undefined ? '(unset)' : `\`${String(s.default)}\``;
      assert.ok(row.includes(`| ${expectedDefault} |`), `${s.env} default in ${row}`);
    }
    for (const variable of ['PORT', 'LOG_LEVEL', 'DATABASE_URL', 'DB_POOL_MAX', 'DB_SLOW_QUERY_WARN_MS']) {
      assert.match(table, new RegExp(`\\| \`${variable}\` \\|`));
    }
    assert.match(table, /\| `DATABASE_URL` \| \(unset\) \|/);
  });
});
