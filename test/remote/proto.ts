import protobuf from 'protobufjs';
import { uncompress } from 'snappyjs';

/**
 * The remote-write 1.0 messages as Prometheus's prompb/remote.proto and prompb/types.proto define
 * them (fields the agent does not send included), decoded by protobufjs: an implementation of the
 * wire format independent of the agent's hand-written encoder.
 */
const root = protobuf.parse(`
syntax = "proto3";
package prometheus;
message WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
message MetricMetadata { int32 type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }
message Sample { double value = 1; int64 timestamp = 2; }
message Exemplar { repeated Label labels = 1; double value = 2; int64 timestamp = 3; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; repeated Exemplar exemplars = 3; }
message Label { string name = 1; string value = 2; }
`).root;
const WriteRequest = root.lookupType('prometheus.WriteRequest');

export interface Decoded {
  timeseries: Array<{ labels: Array<{ name: string; value: string }>; samples: Array<{ value: number; timestamp: number }> }>;
}

export function decodeWriteRequest(body: Uint8Array): Decoded {
  const message = WriteRequest.decode(body);
  return WriteRequest.toObject(message, { longs: Number, defaults: true, arrays: true }) as Decoded;
}

/** A request body as sent: snappy block format around a WriteRequest. */
export const decodeBody = (body: Uint8Array): Decoded => decodeWriteRequest(uncompress(new Uint8Array(body)));
