import { afterEach, describe, expect, it } from 'vitest';
import { setAppendMetadataHook, traceCarrierOf, withAppendMetadata } from './append-metadata';

afterEach(() => void setAppendMetadataHook(undefined));

describe('append metadata hook', () => {
  const events = [{ id: 'e1', type: 'T', data: {}, metadata: { actor: 'a', trace: { traceparent: 'own' } } }, { id: 'e2', type: 'T', data: {} }];

  it('changes nothing without a hook, or when the hook has nothing to add', () => {
    expect(withAppendMetadata(events)).toBe(events);
    setAppendMetadataHook(() => undefined);
    expect(withAppendMetadata(events)).toBe(events);
  });

  it("adds the hook's metadata to every event, the event's own keys winning", () => {
    setAppendMetadataHook(() => ({ trace: { traceparent: 'active' } }));
    const out = withAppendMetadata(events);
    expect(out.map((e) => e.metadata)).toEqual([{ actor: 'a', trace: { traceparent: 'own' } }, { trace: { traceparent: 'active' } }]);
    expect(events[1]!).not.toHaveProperty('metadata');
  });

  it('reads the trace carrier of stored metadata, string values only', () => {
    expect(traceCarrierOf({ trace: { traceparent: 'tp', tracestate: 'ts', junk: 1 } })).toEqual({ traceparent: 'tp', tracestate: 'ts' });
    expect(traceCarrierOf({ trace: 'nope' })).toBeUndefined();
    expect(traceCarrierOf({})).toBeUndefined();
    expect(traceCarrierOf(undefined)).toBeUndefined();
  });
});
