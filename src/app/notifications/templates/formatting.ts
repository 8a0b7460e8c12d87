// How e-mails write money and dates. Dates of a stay are calendar dates (no time zone); the one
// instant shown, an offer's expiry, is written in UTC and says so, since the guest's zone is unknown.

const DAY_MS = 86_400_000;
const money = new Map<string, Intl.NumberFormat>();
const stayDate = new Intl.DateTimeFormat('en-GB', {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  timeZone: 'UTC',
});
const instant = new Intl.DateTimeFormat('en-GB', {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
  timeZone: 'UTC',
});

/** `12050, 'EUR'` → `€120.50` (amounts are kept in cents, as everywhere in Innkeep). */
export function formatMoney(cents: number, currency: string): string {
  let format = money.get(currency);
  if (!format) {
    format = new Intl.NumberFormat('en-US', { style: 'currency', currency });
    money.set(currency, format);
  }
  return format.format(cents / 100);
}

/** `2026-06-01` → `Mon 1 Jun 2026`. */
export function formatStayDate(date: string): string {
  return stayDate.format(calendarDay(date));
}

/** An ISO instant → `Mon 1 Jun 2026, 14:30 UTC`. */
export function formatInstant(iso: string): string {
  return `${instant.format(new Date(iso))} UTC`;
}

/** `2026-06-01`, `2026-06-04` → `Mon 1 Jun 2026 to Thu 4 Jun 2026 (3 nights)`. */
export function formatStay(checkIn: string, checkOut: string): string {
  const nights = Math.round((calendarDay(checkOut).getTime() - calendarDay(checkIn).getTime()) / DAY_MS);
  const count = nights === 1 ? '1 night' : `${nights} nights`;
  return `${formatStayDate(checkIn)} to ${formatStayDate(checkOut)} (${count})`;
}

function calendarDay(date: string): Date {
  return new Date(`${date.slice(0, 10)}T00:00:00Z`);
}
