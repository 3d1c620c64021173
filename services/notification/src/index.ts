export { startNotificationService, type NotificationService, type NotificationServiceDeps, type NotificationConfig } from './service';
export { notificationConfigSchema, type NotificationEnvConfig } from './config';
export { loadTemplates, DEFAULT_TEMPLATES_DIR, type TemplateSet, type RenderedEmail } from './application/templates';
export { EMAIL_KINDS, TEMPLATE_VARIABLES, outboxId, type EmailKind } from './domain/emails';
export { NotificationError, TemplateError, MissingFactError, isTemplateError, isMissingFactError } from './domain/errors';
export { startMailCatcher, type MailCatcher, type MailCatcherOptions } from './smtp/catcher';
export { notificationHttp } from './http/surface';
export { registerNotificationRoutes } from './http/routes';
