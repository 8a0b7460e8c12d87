export { buildJobQueue } from './build.ts';
export type { DriverQueueCounts, JobSummary, QueueDriver } from './driver.ts';
export type { Backoff, EnqueueOptions, JobContext, JobDefinition, QueueSettings } from './job.ts';
export { defineJob, InvalidJobPayloadError, isUnrecoverable, UnrecoverableJobError } from './job.ts';
export type { JobQueueOptions, QueueStats } from './job-queue.ts';
export { JobQueue, UnknownQueueError } from './job-queue.ts';
export type { DeadLetter } from './queue-store.ts';
export { QueueStore } from './queue-store.ts';
