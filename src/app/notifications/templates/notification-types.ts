import Type, { type Static, type TSchema } from 'typebox';
import { formatInstant, formatMoney, formatStay, formatStayDate } from './formatting.ts';

/** What every template can use besides its own data. */
export interface TemplateContext {
  /** The site's base URL, without a trailing slash. */
  readonly publicUrl: string;
  readonly recipientName?: string | undefined;
}

/** What the layout reads; each type's template reads its own fields on top. */
export interface TemplateView {
  /** The first line an inbox shows after the subject. */
  readonly preheader: string;
  readonly heading: string;
  readonly greeting: string;
  /** The one button of the message, with its URL written out in the plain-text part. */
  readonly action?: { readonly label: string; readonly url: string };
  readonly [field: string]: unknown;
}

export interface NotificationType<S extends TSchema = TSchema> {
  /** The payload a `notifications` row of this type carries. */
  readonly schema: S;
  build(data: Static<S>, context: TemplateContext): { subject: string; view: TemplateView };
}

const Id = Type.Integer({ minimum: 1 });
const Text = Type.String({ minLength: 1, maxLength: 500 });
const Day = Type.String({ format: 'date' });
const Cents = Type.Integer({ minimum: 0 });
const Currency = Type.String({ pattern: '^[A-Z]{3}$' });

const define = <S extends TSchema>(type: NotificationType<S>): NotificationType<S> => type;

const hello = (name: string | undefined) => (name ? `Hello ${name},` : 'Hello,');

/** Each notification type: its payload's schema, its subject and what its templates show. */
export const notificationTypes = {
  welcome: define({
    schema: Type.Object({ name: Text }),
    build: (d, c) => ({
      subject: `Welcome to Innkeep, ${d.name}`,
      view: {
        preheader: 'Your account is ready: find a room and book it in a minute.',
        heading: 'Welcome to Innkeep',
        greeting: hello(d.name),
        action: { label: 'Find a hotel', url: `${c.publicUrl}/` },
      },
    }),
  }),

  booking_confirmed: define({
    schema: Type.Object({
      bookingId: Id,
      hotelName: Text,
      checkIn: Day,
      checkOut: Day,
      totalCents: Type.Optional(Cents),
      currency: Type.Optional(Currency),
    }),
    build: (d, c) => ({
      subject: `Booking #${d.bookingId} confirmed: ${d.hotelName}`,
      view: {
        preheader: `${d.hotelName}, ${formatStay(d.checkIn, d.checkOut)}.`,
        heading: 'Your booking is confirmed',
        greeting: hello(c.recipientName),
        bookingId: d.bookingId,
        hotelName: d.hotelName,
        checkIn: formatStayDate(d.checkIn),
        checkOut: formatStayDate(d.checkOut),
        stay: formatStay(d.checkIn, d.checkOut),
        total:
          d.totalCents !== undefined && d.currency !== undefined
            ? formatMoney(d.totalCents, d.currency)
            : undefined,
        action: { label: 'See your booking', url: `${c.publicUrl}/bookings/${d.bookingId}` },
      },
    }),
  }),

  payment_receipt: define({
    schema: Type.Object({ bookingId: Id, amountCents: Cents, currency: Currency, hotelName: Text }),
    build: (d, c) => ({
      subject: `Receipt for booking #${d.bookingId}: ${formatMoney(d.amountCents, d.currency)}`,
      view: {
        preheader: `${formatMoney(d.amountCents, d.currency)} paid for your stay at ${d.hotelName}.`,
        heading: 'Payment received',
        greeting: hello(c.recipientName),
        bookingId: d.bookingId,
        hotelName: d.hotelName,
        amount: formatMoney(d.amountCents, d.currency),
        action: { label: 'See your booking', url: `${c.publicUrl}/bookings/${d.bookingId}` },
      },
    }),
  }),

  booking_cancelled: define({
    schema: Type.Object({ bookingId: Id, checkIn: Day, checkOut: Day, hotelName: Type.Optional(Text) }),
    build: (d, c) => ({
      subject: `Booking #${d.bookingId} cancelled${d.hotelName ? `: ${d.hotelName}` : ''}`,
      view: {
        preheader: `Your stay ${formatStay(d.checkIn, d.checkOut)} is cancelled.`,
        heading: 'Your booking is cancelled',
        greeting: hello(c.recipientName),
        bookingId: d.bookingId,
        hotelName: d.hotelName,
        stay: formatStay(d.checkIn, d.checkOut),
        action: { label: 'Find another stay', url: `${c.publicUrl}/` },
      },
    }),
  }),

  waitlist_offer: define({
    schema: Type.Object({
      waitlistId: Id,
      roomTypeId: Id,
      checkIn: Day,
      checkOut: Day,
      expiresAt: Type.String({ format: 'date-time' }),
      hotelName: Type.Optional(Text),
      roomName: Type.Optional(Text),
    }),
    build: (d, c) => {
      const expires = formatInstant(d.expiresAt);
      const what = [d.roomName, d.hotelName].filter(Boolean).join(' at ') || 'The room you waited for';
      return {
        subject: `A room is free for your dates: book before ${expires}`,
        view: {
          preheader: `${what} is held for you until ${expires}.`,
          heading: 'A room is free for your dates',
          greeting: hello(c.recipientName),
          what,
          hotelName: d.hotelName,
          roomName: d.roomName,
          stay: formatStay(d.checkIn, d.checkOut),
          expires,
          action: { label: 'Book it now', url: `${c.publicUrl}/waitlist/${d.waitlistId}/book` },
        },
      };
    },
  }),

  waitlist_offer_expired: define({
    schema: Type.Object({
      waitlistId: Id,
      checkIn: Day,
      checkOut: Day,
      hotelName: Type.Optional(Text),
      roomName: Type.Optional(Text),
    }),
    build: (d, c) => {
      const what = [d.roomName, d.hotelName].filter(Boolean).join(' at ') || 'The room we held for you';
      return {
        subject: `Your held room has been released${d.hotelName ? `: ${d.hotelName}` : ''}`,
        view: {
          preheader: `${what} was not booked in time and went to the next guest.`,
          heading: 'Your offer has expired',
          greeting: hello(c.recipientName),
          what,
          hotelName: d.hotelName,
          roomName: d.roomName,
          stay: formatStay(d.checkIn, d.checkOut),
          action: { label: 'Look for another stay', url: `${c.publicUrl}/` },
        },
      };
    },
  }),

  price_drop: define({
    schema: Type.Object({
      hotelName: Text,
      roomName: Text,
      oldPriceCents: Cents,
      newPriceCents: Cents,
      currency: Currency,
      checkIn: Type.Optional(Day),
    }),
    build: (d, c) => {
      const now = formatMoney(d.newPriceCents, d.currency);
      return {
        subject: `Price drop at ${d.hotelName}: ${d.roomName} now ${now}`,
        view: {
          preheader: `${d.roomName} went from ${formatMoney(d.oldPriceCents, d.currency)} to ${now} a night.`,
          heading: 'A price you watch went down',
          greeting: hello(c.recipientName),
          hotelName: d.hotelName,
          roomName: d.roomName,
          was: formatMoney(d.oldPriceCents, d.currency),
          now,
          saving: formatMoney(Math.max(0, d.oldPriceCents - d.newPriceCents), d.currency),
          checkIn: d.checkIn ? formatStayDate(d.checkIn) : undefined,
          action: { label: 'Look at it', url: `${c.publicUrl}/` },
        },
      };
    },
  }),

  generic: define({
    schema: Type.Object({ subject: Text, message: Type.String({ minLength: 1, maxLength: 20_000 }) }),
    build: (d, c) => {
      // Blank lines part paragraphs; single line breaks stay line breaks.
      const paragraphs = d.message
        .replace(/\r\n?/g, '\n')
        .split(/\n{2,}/)
        .map((p) => p.trim())
        .filter(Boolean)
        .map((p) => p.split('\n'));
      const subject = d.subject.replace(/\s+/g, ' ').trim();
      return {
        subject,
        view: {
          preheader: paragraphs.flat().join(' ').slice(0, 120),
          heading: subject,
          greeting: hello(c.recipientName),
          paragraphs,
          message: paragraphs.map((lines) => lines.join('\n')).join('\n\n'),
        },
      };
    },
  }),
} satisfies Record<string, NotificationType>;

export type NotificationTypeName = keyof typeof notificationTypes;
