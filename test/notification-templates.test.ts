import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderNotification } from '../src/app/notifications/templates/render-notification.ts';
import { TemplateDataError } from '../src/app/notifications/templates/template-data-error.ts';

const context = { publicUrl: 'https://innkeep.example/', recipientName: 'Ada' };
const XSS = '<script>alert(1)</script>';

/** A valid payload of every type, as the `notifications` rows carry them. */
const payloads: Record<string, Record<string, unknown>> = {
  welcome: { name: 'Ada Lovelace' },
  booking_confirmed: {
    bookingId: 7,
    hotelName: 'Harbour View',
    checkIn: '2026-06-01',
    checkOut: '2026-06-04',
    totalCents: 36_000,
    currency: 'EUR',
  },
  payment_receipt: { bookingId: 7, amountCents: 36_000, currency: 'EUR', hotelName: 'Harbour View' },
  booking_cancelled: { bookingId: 7, checkIn: '2026-06-01', checkOut: '2026-06-04' },
  waitlist_offer: {
    waitlistId: 31,
    roomTypeId: 4,
    checkIn: '2026-06-01',
    checkOut: '2026-06-04',
    expiresAt: '2026-05-20T14:30:00.000Z',
    hotelName: 'Harbour View',
    roomName: 'Double room',
  },
  waitlist_offer_expired: {
    waitlistId: 31,
    checkIn: '2026-06-01',
    checkOut: '2026-06-04',
    hotelName: 'Harbour View',
    roomName: 'Double room',
  },
  price_drop: {
    hotelName: 'Harbour View',
    roomName: 'Double room',
    oldPriceCents: 20_000,
    newPriceCents: 15_050,
    currency: 'USD',
  },
  generic: { subject: 'Pool closed on Monday', message: 'The pool is closed on Monday.\n\nSorry!' },
};

function templateError(fn: () => unknown): TemplateDataError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TemplateDataError, `expected a TemplateDataError, got ${String(err)}`);
    return err;
  }
  assert.fail('rendering succeeded');
}

describe('notification templates', () => {
  for (const [type, data] of Object.entries(payloads)) {
    it(`when a ${type} notification is rendered, then it has a subject, an HTML page and a text part`, () => {
      const mail = renderNotification(type, data, context);
      assert.ok(mail.subject.length > 0);
      assert.doesNotMatch(mail.subject, /[\r\n]/);
      assert.match(mail.html, /^<!DOCTYPE html>/);
      assert.match(mail.html, /max-width:600px/);
      assert.match(mail.html, /<table role="presentation"/);
      assert.doesNotMatch(mail.html, /<img\b|undefined|\[object Object\]/);
      assert.match(mail.text, /Innkeep/);
      assert.doesNotMatch(mail.text, /<[a-z]|undefined|\[object Object\]/i);
      assert.doesNotMatch(mail.text, /\n{3,}/);
    });
  }

  it('when a booking is confirmed, then the e-mail shows the stay, the total and a link to the booking', () => {
    const mail = renderNotification('booking_confirmed', payloads.booking_confirmed, context);
    assert.equal(mail.subject, 'Booking #7 confirmed: Harbour View');
    for (const part of [mail.html, mail.text]) {
      assert.match(part, /Mon, 1 Jun 2026/);
      assert.match(part, /Thu, 4 Jun 2026/);
      assert.match(part, /3 nights/);
      assert.match(part, /€360\.00/);
      assert.match(part, /https:\/\/innkeep\.example\/bookings\/7/);
      assert.match(part, /Hello Ada,/);
    }
  });

  it('when a hotel name holds a script tag, then the HTML shows it as text, escaped', () => {
    const mail = renderNotification(
      'booking_confirmed',
      { ...payloads.booking_confirmed, hotelName: `${XSS} & "Spa"` },
      { ...context, recipientName: '<b>Ada</b>' },
    );
    assert.doesNotMatch(mail.html, /<script|<b>Ada/);
    assert.match(mail.html, /&lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; &quot;Spa&quot;/);
    assert.match(mail.html, /Hello &lt;b&gt;Ada&lt;\/b&gt;,/);
    // Plain text has no markup: the name reads as written there.
    assert.match(mail.text, /<script>alert\(1\)<\/script> & "Spa"/);
  });

  it('when a generic message holds markup and line breaks, then the HTML escapes it and keeps the paragraphs', () => {
    const mail = renderNotification(
      'generic',
      { subject: `Hello\r\nBcc: x@evil.test`, message: `First line\n${XSS}\n\nSecond paragraph` },
      context,
    );
    assert.equal(mail.subject, 'Hello Bcc: x@evil.test');
    assert.match(mail.html, /First line<br>&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/p>/);
    assert.match(mail.html, /<p style="[^"]*">Second paragraph<\/p>/);
    assert.doesNotMatch(mail.html, /<script/);
    assert.match(mail.text, /First line\n<script>alert\(1\)<\/script>\n\nSecond paragraph/);
  });

  it('when a waitlist offer is rendered, then it shows when the offer ends and the link to book it', () => {
    const mail = renderNotification('waitlist_offer', payloads.waitlist_offer, context);
    assert.match(mail.subject, /Wed, 20 May 2026, 14:30 UTC/);
    for (const part of [mail.html, mail.text]) {
      assert.match(part, /Wed, 20 May 2026, 14:30 UTC/);
      assert.match(part, /https:\/\/innkeep\.example\/waitlist\/31\/book/);
      assert.match(part, /Double room/);
    }
    assert.match(mail.html, /<a href="https:\/\/innkeep\.example\/waitlist\/31\/book"/);
  });

  it('when a price drops, then both prices and the saving are shown in the currency', () => {
    const mail = renderNotification('price_drop', payloads.price_drop, context);
    assert.match(mail.subject, /\$150\.50/);
    assert.match(mail.text, /\$200\.00/);
    assert.match(mail.text, /You save: \$49\.50/);
  });

  it('when a required field is missing, then a permanent TemplateDataError names it', () => {
    const { hotelName: _, ...data } = payloads.booking_confirmed as Record<string, unknown>;
    const err = templateError(() => renderNotification('booking_confirmed', data, context));
    assert.equal(err.permanent, true);
    assert.equal(err.code, 'E_TEMPLATE_DATA');
    assert.equal(err.field, 'hotelName');
    assert.match(err.message, /hotelName is missing/);
  });

  it('when the waitlist offer has no expiry, then the TemplateDataError names expiresAt', () => {
    const { expiresAt: _, ...data } = payloads.waitlist_offer as Record<string, unknown>;
    const err = templateError(() => renderNotification('waitlist_offer', data, context));
    assert.equal(err.field, 'expiresAt');
  });

  it('when a field has the wrong kind, then the TemplateDataError names it', () => {
    const err = templateError(() =>
      renderNotification('payment_receipt', { ...payloads.payment_receipt, amountCents: '360' }, context),
    );
    assert.equal(err.field, 'amountCents');
    const date = templateError(() =>
      renderNotification(
        'booking_cancelled',
        { ...payloads.booking_cancelled, checkIn: '2026-13-01' },
        context,
      ),
    );
    assert.equal(date.field, 'checkIn');
  });

  it('when the data is not an object, then a TemplateDataError says so', () => {
    const err = templateError(() => renderNotification('welcome', null, context));
    assert.equal(err.field, undefined);
    assert.equal(err.permanent, true);
  });

  it('when the type is unknown, then a TemplateDataError names the type', () => {
    const err = templateError(() => renderNotification('birthday', {}, context));
    assert.equal(err.permanent, true);
    assert.equal(err.type, 'birthday');
    assert.match(err.message, /"birthday"/);
    // Not a prototype property either.
    assert.equal(templateError(() => renderNotification('toString', {}, context)).type, 'toString');
  });
});
