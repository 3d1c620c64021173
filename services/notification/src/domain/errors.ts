/** Typed errors of the notification service; `code` is stable. */
export class NotificationError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'NotificationError';
  }
}

/** A template file is missing, unreadable, or uses a placeholder its email does not provide. */
export class TemplateError extends NotificationError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NOTIFICATION_TEMPLATE_INVALID', message, options);
    this.name = 'TemplateError';
  }
}

/** A fact the email needs (provider, niche, lead) is not in the read models (yet). */
export class MissingFactError extends NotificationError {
  constructor(message: string) {
    super('NOTIFICATION_FACT_MISSING', message);
    this.name = 'MissingFactError';
  }
}

export const isTemplateError = (error: unknown): error is TemplateError => error instanceof TemplateError;
export const isMissingFactError = (error: unknown): error is MissingFactError => error instanceof MissingFactError;
