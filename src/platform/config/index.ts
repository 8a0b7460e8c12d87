export type {
  AuthConfig,
  Config,
  ConfigIssue,
  DbConfig,
  LoadConfigOptions,
  LogLevel,
  SeedScale,
  TracingConfig,
} from './config.ts';
export { ConfigError, configMarkdownTable, loadConfig } from './config.ts';
export { SEED_SCALES } from './settings.ts';
