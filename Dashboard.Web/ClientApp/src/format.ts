const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) {
    return '–';
  }
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 100 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

export function formatPercent(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : `${value.toFixed(1)} %`;
}

export function formatNumber(value: number | null | undefined, digits = 0): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

/** "just now", "12 s ago", "3 min ago". */
export function formatAgo(time: number | null, now: number): string {
  if (time === null) {
    return 'never';
  }
  const seconds = Math.max(0, Math.round((now - time) / 1000));
  if (seconds < 2) {
    return 'just now';
  }
  if (seconds < 120) {
    return `${seconds} s ago`;
  }
  return `${Math.round(seconds / 60)} min ago`;
}

export function formatClock(time: number): string {
  return new Date(time).toLocaleTimeString(undefined, { hour12: false });
}
