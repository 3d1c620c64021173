import { statusOfCode } from '@fairlead/contracts';
import { AppError } from '@fairlead/platform';

/** Typed errors of the notification service: the platform's error type, `code` stable, its status the error catalogue's. */
export class NotificationError extends AppError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, { status: statusOfCode(code), ...(options?.cause === undefined ? {} : { cause: options.cause }) });
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
