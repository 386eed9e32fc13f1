/**
 * The HTTP version the page talks to its origin with ("h2", "http/1.1", "h3"), from the
 * Performance API. An open EventSource has no timing entry yet (entries appear when a response
 * ends), so the newest finished same-origin /bff/ or /api/ request (the stream ticket) is used: it
 * shares the stream's connection under HTTP/2. The document's own navigation entry is the fallback.
 */
export function detectProtocol(performanceApi: Pick<Performance, 'getEntriesByType'> | undefined = globalThis.performance): string | null {
  if (!performanceApi?.getEntriesByType) {
    return null;
  }
  const origin = globalThis.location?.origin;
  const resources = performanceApi.getEntriesByType('resource') as PerformanceResourceTiming[];
  for (let i = resources.length - 1; i >= 0; i--) {
    const entry = resources[i];
    if (!entry.nextHopProtocol) {
      continue;
    }
    const url = safeUrl(entry.name);
    if (url && (!origin || url.origin === origin) && (url.pathname.startsWith('/bff/') || url.pathname.startsWith('/api/'))) {
      return entry.nextHopProtocol;
    }
  }
  const navigation = performanceApi.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
  return navigation?.nextHopProtocol || null;
}

function safeUrl(text: string): URL | null {
  try {
    return new URL(text, globalThis.location?.href);
  } catch {
    return null;
  }
}
