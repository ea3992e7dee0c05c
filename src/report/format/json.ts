// `tailor report -o json`: the Report model as it is (money already in whole cents), the contract /ui
// and the tests compare against.
import type { Report } from '../../core/report/model.ts';

export function renderJson(r: Report): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
