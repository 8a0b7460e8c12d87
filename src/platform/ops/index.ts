export type { DetailedHealthOptions } from './detailed-health.ts';
export { detailedHealth } from './detailed-health.ts';
export type { OpsRoutesOptions } from './ops-routes.ts';
export { opsRoutes } from './ops-routes.ts';
export type { PerformanceMonitorOptions, PerformanceReport } from './performance-monitor.ts';
export { PerformanceMonitor } from './performance-monitor.ts';
export type {
  CacheNamespaceReads,
  Evidence,
  Recommendation,
  RecommendationThresholds,
} from './recommendations.ts';
export { DEFAULT_THRESHOLDS, recommend } from './recommendations.ts';
