export { connectNats, drainAndClose, natsCredentialsFrom, publicKeyOfSeed, createNkeyIdentity, type ConnectNatsOptions, type NatsCredentials, type NatsCredentialsEnv } from './connection';
export {
  declareStreams,
  declareStream,
  declareConsumer,
  differingKeys,
  DeclarationError,
  type StreamDeclaration,
  type ConsumerDeclaration,
  type DeclarationResult,
} from './declarations';
export { fairleadStreams, type FairleadStreamsOptions } from './fairlead-streams';
export { publishDurable, type PublishDurableOptions } from './publish';
export { isTransient, type RetryOptions } from './retry';
export {
  serveRequests,
  request,
  ReplyEnvelope,
  ReplyErrorCodes,
  type ServeRequestsOptions,
  type RequestServer,
  type RequestContext,
  type RequestOptions,
} from './request-reply';
export { serveCommands, type CommandHandlers } from './command-server';
export { runConsumer } from './consumer/runner';
export { DEFAULT_BACKOFF_MS, decideOnFailure, maxAttemptsFor, type DeadLetterReason, type FailureDecision } from './consumer/failure-policy';
export { DeadLetterHeaders, DEAD_LETTER_LIMITS, boundedPayload, readDeadLetter, type DeadLetterInfo, type BoundedPayload } from './consumer/dead-letter';
export type { RunConsumerOptions, MessageContext, ConsumerRunner, ConsumerStats, BatchItem } from './consumer/types';
export { createInbox, type Inbox, type InboxOptions, type OnceResult } from './inbox';
export { setTracePropagator, tracePropagator, type TracePropagator, type TraceCarrier, type TraceSpan } from './trace';
export { outgoingHeaders, type HeadersInit } from './codec';
export {
  MessagingError,
  PublishFailedError,
  RequestTimeoutError,
  NoRespondersError,
  RemoteError,
  InvalidResponseError,
  PermanentError,
  isMessagingError,
  isPublishFailedError,
  isRequestTimeoutError,
  isNoRespondersError,
  isRemoteError,
  isPermanentError,
  type WireIssue,
} from './errors';
