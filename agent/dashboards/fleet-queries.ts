/**
 * The fleet view's PromQL: every host of the selected jobs ranked by its worst condition. Plain
 * PromQL (no recording rules), so it runs on Prometheus, Thanos, Mimir and VictoriaMetrics alike.
 *
 * A host's alerts come from two places and either is enough: Prometheus's `ALERTS` (rules/contention.yml
 * loaded where the host is scraped) and the agent's own verdicts, `contention_alert_state`
 * (rules.enabled), which a host pushing by remote write brings with it. Fleet-wide alerts
 * (rules/fleet.yml, Fleet*) are left out here, even those naming a host: they have their own panel,
 * and one that holds for most hosts (readiness missing) would otherwise drown every ranking.
 *
 * Rank, worst first: 6 not reporting, 5 a critical alert firing, 4 another alert firing, 3 a
 * critical one pending, 2 another pending, 0 nothing. The score adds firing alerts and leak
 * suspects as tie-breakers: rank × 10,000 + firing (up to 99) × 100 + suspects (up to 99).
 */

const J = 'job=~"$job"';

/** Each alert of each host at its most advanced state: 2 firing, 1 pending; labels job, instance, alertname, severity, alertstate. */
const alertsOf = (severity: string): string =>
  `max by (job, instance, alertname, severity, alertstate) (` +
  `ALERTS{${J}, instance!="", alertname!~"Fleet.+", alertstate="firing", ${severity}} * 2` +
  ` or ALERTS{${J}, instance!="", alertname!~"Fleet.+", alertstate="pending", ${severity}}` +
  ` or label_replace(contention_alert_state{${J}, ${severity}} == 2, "alertstate", "firing", "", "")` +
  ` or label_replace(contention_alert_state{${J}, ${severity}} == 1, "alertstate", "pending", "", "")` +
  `)`;

/** Every alert of every host, valued by its rank (2 to 5). */
export const rankedAlerts = `(2 * ${alertsOf('severity="critical"')} + 1 or 2 * ${alertsOf('severity!="critical"')})`;


/**
 * Hosts seen in the time range whose latest sample is older than three of their intervals plus
 * `$slack` seconds (the scrape interval, or remote write's batch deadline and backoff, delay what the
 * store sees), valued by the seconds since. Judged on the agent's sample clock, so a scraped host and
 * a pushing one count alike (a stopped target and a silent pusher both stop advancing it).
 */
export const stoppedHosts =
  `((time() - max by (job, instance) (max_over_time(contention_last_sample_timestamp_seconds{${J}}[$__range])))` +
  ` > 3 * max by (job, instance) (max_over_time(contention_sample_interval_seconds{${J}}[$__range])) + $slack)`;

/** 0 for every host reporting now or stopped in the time range, with its job and instance labels only. */
const known = `(0 * group by (job, instance) (contention_host_info{${J}}) or 0 * ${stoppedHosts})`;

/** Firing alerts per host, 0 for a host with none. */
export const firingPerHost = `(count by (job, instance) (${rankedAlerts} >= 4) or ${known})`;

/** Leak suspects per host (processes, groups, pools, tables), 0 for a host with none. */
export const suspectsPerHost = `(count by (job, instance) (contention_leak_suspected{${J}} == 1) or ${known})`;

/** Each host's single worst condition: its labels name it (alertname, severity, alertstate), the value is its rank. */
export const worstPerHost =
  `(label_replace(label_replace(label_replace(0 * ${stoppedHosts} + 6, "alertname", "NotReporting", "", ""), "severity", "critical", "", ""), "alertstate", "stale", "", "")` +
  ` or on(job, instance) topk by (job, instance) (1, ${rankedAlerts})` +
  ` or on(job, instance) label_replace(label_replace(label_replace(0 * group by (job, instance) (contention_host_info{${J}}), "alertname", "none", "", ""), "severity", "none", "", ""), "alertstate", "ok", "", ""))`;

/** The table's sort key: rank first, then firing alerts, then leak suspects. */
export const hostScore =
  `sort_desc(${worstPerHost} * 10000 + on(job, instance) group_left() (clamp_max(${firingPerHost}, 99) * 100 + clamp_max(${suspectsPerHost}, 99)))`;

/** Hosts whose worst condition has the given ranks. */
export const hostsAtRank = (min: number, max = min): string => `count((${worstPerHost}) >= ${min} <= ${max}) or vector(0)`;
