// The one cache for server state. Lists stay cached across navigation, so
// going back shows what was on screen (every loaded page) at once, then
// refreshes it in the background.
import { QueryClient } from '@tanstack/react-query';

export function newQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // Shown from the cache at once, then read again in the background on every visit.
        staleTime: 0,
        gcTime: 10 * 60_000,
        // The API answers quickly or with a problem the page shows with a "Try again".
        retry: false,
        refetchOnWindowFocus: false,
      },
    },
  });
}
