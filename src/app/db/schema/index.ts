export * from './bookings.ts';
export * from './exports.ts';
export * from './hotels.ts';
export * from './stats.ts';
export * from './users.ts';
