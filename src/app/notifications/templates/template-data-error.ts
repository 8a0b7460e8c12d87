/**
 * A notification's payload cannot fill its template (a field missing or of the wrong kind), or its
 * type has no template. The same payload would fail again: the job must not retry (`permanent`).
 */
export class TemplateDataError extends Error {
  readonly code = 'E_TEMPLATE_DATA';
  readonly permanent = true;
  readonly type: string;
  /** The first offending field (`hotelName`, `guest/name`); undefined when the data as a whole is wrong. */
  readonly field: string | undefined;

  constructor(type: string, field: string | undefined, message: string) {
    super(message);
    this.name = 'TemplateDataError';
    this.type = type;
    this.field = field;
  }
}
