export {
  type DependencyOverrides,
  OVERRIDES_PATTERN,
  parseOverrides,
} from '../config/resilience-overrides.ts';
export {
  BreakerOpenError,
  type BreakerSnapshot,
  type BreakerState,
  CircuitBreaker,
  STATE_VALUE,
} from './breaker.ts';
export { buildResilience } from './build.ts';
export { adminShutdown, Chaos, econnreset } from './chaos.ts';
export { classify, DependencyHttpError, DependencyTimeoutError, parseRetryAfter } from './classify.ts';
export { type FetchLike, OutboundHttpClient } from './http-client.ts';
export { type CallOptions, DependencyPolicy, type PolicyOptions } from './policy.ts';
export { connectSharedBreakers } from './redis-connections.ts';
export { Resilience, type ResilienceConfig } from './resilience.ts';
export { SharedBreakers } from './shared-breakers.ts';
