// Paging over a sorted in-memory list with the adapters' opaque tokens (the position after the last item given).
import type { Page } from '../../ports/page.ts';
import { encodePageToken } from '../page-token.ts';

/** The page after the item whose key is `start` (from the top when absent); `keyOf` names an item's position. */
export function pageAfter<T>(sorted: readonly T[], keyOf: (item: T) => Record<string, string>, limit: number, start: Record<string, string> | undefined): Page<T> {
  let from = 0;
  if (start) {
    const wanted = canonical(start);
    from = sorted.findIndex((item) => canonical(keyOf(item)) === wanted) + 1;
  }
  const items = sorted.slice(from, from + limit);
  const last = items.at(-1);
  const more = from + limit < sorted.length;
  return { items, nextToken: more && last ? encodePageToken(keyOf(last)) : undefined };
}

function canonical(key: Record<string, string>): string {
  return JSON.stringify(Object.entries(key).sort(([a], [b]) => a.localeCompare(b)));
}
