// `npm run cycles` (part of `npm run check`): fails on any import cycle in src, bench and scripts.
// Type-only imports count too: they do not run, but they tie the modules together all the same, and
// a cycle made of them becomes a runtime one as soon as one of its imports carries a value.
export default {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A module reaches itself through its imports.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-circular-folders',
      comment:
        'Two folders import each other (e.g. src/platform/db and src/platform/http), even through different files: folders have a direction (ARCHITECTURE.md).',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    // The platform's folders in their direction (README, Design): each imports only those to its left.
    ...[
      ['config|errors', 'observability|db|cache|resilience|http|ops|security'],
      ['observability', 'db|cache|resilience|http|ops'],
      ['db', 'cache|resilience|http|ops'],
      ['cache', 'db|resilience|http|ops'],
      ['resilience', 'db|cache|http|ops'],
      ['http', 'ops'],
    ].map(([from, to]) => ({
      name: `platform-direction-${from.split('|')[0]}`,
      comment: `src/platform/(${from}) must not import src/platform/(${to}): config, errors ← observability ← db, cache, resilience ← http ← ops.`,
      severity: 'error',
      from: { path: `^src/platform/(${from})/` },
      to: { path: `^src/platform/(${to})/` },
    })),
    {
      name: 'platform-direction-mail',
      comment:
        'src/platform/mail is a leaf adapter: it imports only src/platform/config and src/platform/observability.',
      severity: 'error',
      from: { path: '^src/platform/mail/' },
      to: { path: '^src/platform/(?!config/|observability/|mail/)[^/]+/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
