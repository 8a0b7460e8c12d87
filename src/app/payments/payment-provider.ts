/**
 * The payment port. A booking asks its provider for a payment decision inside the booking transaction,
 * so the decision is synchronous: nothing can leave the process while the inventory rows are locked
 * (and the transaction may be retried). The default provider takes nothing up front (the guest pays at
 * the property). Card providers (a later issue) decide `pending` here, call the provider outside the
 * transaction, then confirm or release.
 */
export type PaymentStatus =
  | 'pending'
  | 'due_at_property'
  | 'authorized'
  | 'captured'
  | 'failed'
  | 'refunded'
  | 'cancelled';

export interface PaymentRequest {
  readonly userId: number;
  readonly amountCents: number;
  readonly currency: string;
  /** Stable per booking attempt (the idempotency key's scope), so a provider can de-duplicate. */
  readonly reference: string;
}

export interface PaymentDecision {
  readonly provider: string;
  readonly status: PaymentStatus;
  readonly providerRef: string | null;
}

export interface PaymentProvider {
  readonly name: string;
  /** The payment's first state, decided without I/O (it runs inside the booking transaction). */
  decide(request: PaymentRequest): PaymentDecision;
  /** The status a payment moves to when its booking is cancelled. */
  cancelledStatus(current: PaymentStatus): PaymentStatus;
}

export class PayAtPropertyProvider implements PaymentProvider {
  readonly name = 'pay_at_property';

  decide(): PaymentDecision {
    return { provider: this.name, status: 'due_at_property', providerRef: null };
  }

  cancelledStatus(current: PaymentStatus): PaymentStatus {
    return current === 'captured' ? 'refunded' : 'cancelled';
  }
}
