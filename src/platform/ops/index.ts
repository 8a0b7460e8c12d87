export { renderQueryAnalysis } from './analysis-report.ts';
export { type BreakerRoutesOptions, breakerRoutes } from './breaker-routes.ts';
export { cacheRoutes } from './cache-routes.ts';
export type { CapturedStatement, CaptureOptions } from './capture-statements.ts';
export { captureStatements } from './capture-statements.ts';
export type { DetailedHealthOptions } from './detailed-health.ts';
export { detailedHealth } from './detailed-health.ts';
export type { DuplicateIndexes } from './duplicate-indexes.ts';
export { duplicateIndexes } from './duplicate-indexes.ts';
export type { ExplainableStatement, ExplainedPlan } from './explain.ts';
export { explain } from './explain.ts';
export type { UnindexedForeignKey } from './foreign-key-indexes.ts';
export { unindexedForeignKeys } from './foreign-key-indexes.ts';
export { formatBytes, formatCount, formatMs } from './format-units.ts';
export type { ForeignKeyGap, IndexCheckOptions, IndexCheckReport } from './index-check.ts';
export { checkIndexes } from './index-check.ts';
export { renderIndexCheck } from './index-check-report.ts';
export type { IndexExpectation, IndexExpectationResult, IndexRequirement } from './index-expectations.ts';
export { checkIndexExpectations } from './index-expectations.ts';
export type { IndexUsage, IndexUsageReport } from './index-usage.ts';
export { indexUsage } from './index-usage.ts';
export type { OpsRoutesOptions } from './ops-routes.ts';
export { opsRoutes } from './ops-routes.ts';
export type { PerformanceMonitorOptions, PerformanceReport } from './performance-monitor.ts';
export { PerformanceMonitor } from './performance-monitor.ts';
export type { PlanFlag, PlanFlagOptions } from './plan-flags.ts';
export { DEFAULT_PLAN_FLAG_OPTIONS, estimateFlags, seqScanFlags } from './plan-flags.ts';
export type { PlanNode, VisitedNode } from './plan-nodes.ts';
export { describeNode, indexesUsed, walkPlan } from './plan-nodes.ts';
export type { QueryAnalysis, StatementAnalysis, StatementToAnalyze } from './query-analysis.ts';
export { analyzeStatements, relationRows } from './query-analysis.ts';
export { type QueueDashboardOptions, queueDashboard } from './queue-dashboard.ts';
export { type QueueRoutesOptions, queueRoutes } from './queue-routes.ts';
export type {
  CacheNamespaceReads,
  Evidence,
  Recommendation,
  RecommendationThresholds,
  UnusedIndex,
} from './recommendations.ts';
export { DEFAULT_THRESHOLDS, recommend } from './recommendations.ts';
export type { Align, Column } from './text-table.ts';
export { textTable } from './text-table.ts';
