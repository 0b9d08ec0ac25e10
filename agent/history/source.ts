/** A point of a stored series: Unix time in milliseconds and the value. */
export interface Point {
  readonly t: number;
  readonly v: number;
}

export interface StoredSeries {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** In time order. */
  readonly points: readonly Point[];
}

/**
 * Read access to the agent's local history: what the local rule evaluator, the detectors and the
 * status page query. The history keeps bounded rings per series and implements this.
 */
export interface SeriesSource {
  /** Every stored series of the metric `name` with its points inside [startMs, endMs]; series without such points are left out. */
  select(name: string, startMs: number, endMs: number): StoredSeries[];
}
