/** Perfetto field numbers and enum values, without loading protobufjs (the writer needs only these). */

/** Field numbers the writer and reader use (upstream numbers; see schemas/perfetto/trace.proto). */
export const F = {
  packet: 1,
  // TracePacket
  timestamp: 8,
  trustedPacketSequenceId: 10,
  trackEvent: 11,
  internedData: 12,
  sequenceFlags: 13,
  trackDescriptor: 60,
  tracePacketDefaults: 59,
  /** TracePacketDefaults.track_event_defaults and TrackEventDefaults.track_uuid. */
  trackEventDefaults: 11,
  compressedPackets: 50,
  // TrackEvent
  categoryIids: 3,
  debugAnnotations: 4,
  type: 9,
  nameIid: 10,
  trackUuid: 11,
  name: 23,
  counterValue: 30,
  doubleCounterValue: 44,
  sourceLocationIid: 34,
  flowIds: 47,
  terminatingFlowIds: 48,
  // TrackDescriptor
  tdUuid: 1,
  tdName: 2,
  tdProcess: 3,
  tdThread: 4,
  tdParentUuid: 5,
  tdCounter: 8,
  tdDescription: 14,
  // ProcessDescriptor / ThreadDescriptor
  pdPid: 1,
  pdProcessName: 6,
  tdtPid: 1,
  tdtTid: 2,
  tdtThreadName: 5,
  // CounterDescriptor
  cdYAxisShareKey: 7,
  // InternedData
  idEventCategories: 1,
  idEventNames: 2,
  idDebugAnnotationNames: 3,
  idSourceLocations: 4,
  // entries
  iid: 1,
  entryName: 2,
  slFileName: 2,
  slFunctionName: 3,
  slLineNumber: 4,
  // DebugAnnotation
  daNameIid: 1,
  daBool: 2,
  daUint: 3,
  daInt: 4,
  daDouble: 5,
  daString: 6,
  daName: 10,
  daDict: 11,
  daArray: 12,
} as const;

export const SEQ_INCREMENTAL_STATE_CLEARED = 1;
export const SEQ_NEEDS_INCREMENTAL_STATE = 2;

export const TYPE_SLICE_BEGIN = 1;
export const TYPE_SLICE_END = 2;
export const TYPE_INSTANT = 3;
export const TYPE_COUNTER = 4;
