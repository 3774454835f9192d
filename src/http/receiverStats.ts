/** Counters a receiver keeps since it started (`GET /stats`). */
export interface ReceiverStats {
  /** uploads stored (an overwrite counts again) */
  files: number;
  /** bytes stored */
  bytes: number;
  /** uploads accepted and not yet answered: queued for a slot or being served */
  inFlight: number;
  inFlightMax: number;
  /** uploads holding a slot: "service time" running (a body is read before its slot is taken) */
  served: number;
  servedMax: number;
  /** answered 4xx other than 422 (bad path, token, size, method or route) */
  rejected: number;
  /** 422: the body did not match the x-fanout-sha256 the client sent */
  checksumMismatches: number;
  /** the client went away before the upload was answered */
  aborted: number;
  /** 408: the body stopped arriving for the idle timeout */
  timedOut: number;
  /** connections closed on arrival because maxConnections were open */
  connectionsRefused: number;
}

export function emptyStats(): ReceiverStats {
  return {
    files: 0,
    bytes: 0,
    inFlight: 0,
    inFlightMax: 0,
    served: 0,
    servedMax: 0,
    rejected: 0,
    checksumMismatches: 0,
    aborted: 0,
    timedOut: 0,
    connectionsRefused: 0,
  };
}
