export interface BackoffOptions {
  /** Upper bound of the first delay (the first retry waits half of it to all of it). */
  initialMs: number;
  /** No delay exceeds this. */
  maxMs: number;
}

export const defaultBackoff: BackoffOptions = { initialMs: 1000, maxMs: 30_000 };

/**
 * Exponential backoff with "equal jitter": the ceiling doubles with every failed attempt up to
 * maxMs, and the delay is drawn uniformly from [ceiling / 2, ceiling]. Half the ceiling keeps
 * retries from hammering; the random half keeps many dashboards from reconnecting in step.
 * @param attempt 1 for the first retry after a failure.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = defaultBackoff, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** exponent);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** A delay drawn uniformly from [minMs, maxMs]. */
export function jitterBetween(minMs: number, maxMs: number, random: () => number = Math.random): number {
  return Math.round(minMs + random() * Math.max(0, maxMs - minMs));
}
