// History (API.md §6): who changed what, when — settings and trust material, newest first.
import { Loading, Notice, Pager, TableBox, usePagedList } from '../ui.tsx';
import { fieldLabel, valueWords, when } from '../words.ts';

export interface HistoryEntry {
  version: number;
  changedAt: string;
  actor: string;
  changes: { field: string; from: unknown; to: unknown }[];
}

export const describeChange = (change: HistoryEntry['changes'][number]) => `${fieldLabel(change.field)}: ${valueWords(change.from)} → ${valueWords(change.to)}`;

export function HistoryPage() {
  const { page, error, pager } = usePagedList<HistoryEntry>('/admin/settings/history');
  if (error) return <Notice kind="error">{error}</Notice>;
  if (!page) return <Loading what="the history" />;
  return (
    <section class="card" aria-label="Changes">
      {page.items.length === 0 ? (
        <p>Nothing has been changed yet.</p>
      ) : (
        <TableBox label="Changes, newest first">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">What changed</th>
              <th scope="col">Settings version</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((entry, index) => (
              <tr key={`${entry.changedAt}-${index}`}>
                <td>{when(entry.changedAt)}</td>
                <td>{entry.actor}</td>
                <td>
                  <ul class="changes">
                    {entry.changes.map((change, i) => (
                      <li key={i}>{describeChange(change)}</li>
                    ))}
                  </ul>
                </td>
                <td>{entry.version}</td>
              </tr>
            ))}
          </tbody>
        </TableBox>
      )}
      <Pager label="History pages" {...pager} />
    </section>
  );
}
