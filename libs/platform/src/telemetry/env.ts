/**
 * The standard OpenTelemetry variables a Fairlead process acts on (telemetry.ts reads them;
 * the SDK reads the rest of the OTEL_* family, e.g. OTEL_EXPORTER_OTLP_HEADERS). This
 * schema documents them for .env.example; it parses nothing at start-up.
 */
import { z } from 'zod';

export const telemetryEnvSchema = z.object({
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional().describe('OTLP/HTTP collector (e.g. http://127.0.0.1:4318); setting it turns tracing on'),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional().describe('OTLP/HTTP endpoint for traces only; also turns tracing on'),
  OTEL_TRACES_EXPORTER: z.string().optional().describe('trace exporters, comma separated (otlp, console; none: off); anything but none turns tracing on'),
  OTEL_SERVICE_NAME: z.string().optional().describe("service.name of the spans (default: the service's SERVICE_NAME)"),
  OTEL_SDK_DISABLED: z.string().optional().describe('true: tracing off, whatever else is set'),
});
