/** The evidence directory of one capture: its time, pid and why, so name order is age order. */
export const captureDirName = (now: number, pid: number, trigger: string): string => `${new Date(now).toISOString().replace(/[:.]/g, '-')}-${pid}-${trigger}`;
