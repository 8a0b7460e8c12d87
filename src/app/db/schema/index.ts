export * from './bookings.ts';
export * from './hotels.ts';
export * from './users.ts';
