/**
 * Bar charts drawn as SVG, no chart library: horizontal bars for counts by a label (reasons, reminder
 * numbers, outcomes, breaches) and stacked columns for a series of days. Each chart is an image with
 * a text alternative; the numbers it draws are also in a table next to it.
 */

export interface Bar {
  key: string;
  label: string;
  value: number;
  /** The value as shown at the bar's end (a count with its share); the value itself when absent. */
  valueLabel?: string;
  highlight?: boolean;
  /** `bad`: a bar that is a breach (drawn red); `quiet`: one not decided yet (drawn grey). */
  tone?: 'bad' | 'quiet';
}

const ROW = 26;
const LABEL_WIDTH = 190;
const BAR_AREA = 360;
const VALUE_WIDTH = 130;

/** Text cut to fit a label column; the whole text stays in the chart's description. */
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** Horizontal bars, longest for the largest value, scaled to it. */
export function BarChart({ label, bars }: { label: string; bars: Bar[] }) {
  const max = Math.max(1, ...bars.map((bar) => bar.value));
  const height = Math.max(1, bars.length) * ROW + 8;
  const width = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH;
  const description = bars.map((bar) => `${bar.label}: ${bar.valueLabel ?? bar.value}`).join('; ');
  return (
    <svg class="chart bars" viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-label={`${label}. ${description}`}>
      {bars.map((bar, i) => {
        const y = 4 + i * ROW;
        const length = Math.round((bar.value / max) * BAR_AREA);
        return (
          <g key={bar.key} class={['bar-row', bar.highlight && 'highlight', bar.tone && `tone-${bar.tone}`].filter(Boolean).join(' ')} data-key={bar.key}>
            <text class="bar-label" x={LABEL_WIDTH - 8} y={y + ROW / 2} text-anchor="end" dominant-baseline="middle">
              {clip(bar.label, 26)}
            </text>
            <rect class="bar" x={LABEL_WIDTH} y={y + 3} width={Math.max(length, bar.value > 0 ? 2 : 0)} height={ROW - 6} rx={2} />
            <text class="bar-value" x={LABEL_WIDTH + length + 6} y={y + ROW / 2} dominant-baseline="middle">
              {bar.valueLabel ?? String(bar.value)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

export interface Series {
  key: string;
  label: string;
}

export interface Column {
  key: string;
  label: string;
  /** By series key; a missing series counts 0. */
  values: Record<string, number>;
}

const COLUMN_AREA = 180;
const SERIES_CLASSES = 6;

/**
 * Columns side by side, one per key (a day), each a stack of its series (opened, then closed by
 * outcome); `groups` puts series in separate stacks of the same column.
 */
export function ColumnChart({ label, columns, groups }: { label: string; columns: Column[]; groups: Series[][] }) {
  const stackOf = (column: Column, group: Series[]) => group.reduce((sum, series) => sum + (column.values[series.key] ?? 0), 0);
  const max = Math.max(1, ...columns.flatMap((column) => groups.map((group) => stackOf(column, group))));
  const barWidth = 12;
  const slot = Math.max(groups.length * (barWidth + 2) + 10, 34);
  const left = 34;
  const width = left + columns.length * slot + 10;
  const height = COLUMN_AREA + 44;
  const labelEvery = Math.ceil(columns.length / 16);
  const allSeries = groups.flat();
  const description = columns
    .map((column) => `${column.label}: ${allSeries.map((series) => `${series.label} ${column.values[series.key] ?? 0}`).join(', ')}`)
    .join('; ');
  const scale = (value: number) => (value / max) * COLUMN_AREA;
  return (
    <figure class="column-chart">
      <div class="chart-scroll">
        <svg class="chart columns" viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-label={`${label}. ${description}`}>
          <line class="axis" x1={left} x2={width - 4} y1={COLUMN_AREA + 8} y2={COLUMN_AREA + 8} />
          <text class="tick" x={left - 6} y={8} text-anchor="end" dominant-baseline="middle">
            {max}
          </text>
          <text class="tick" x={left - 6} y={COLUMN_AREA + 8} text-anchor="end" dominant-baseline="middle">
            0
          </text>
          {columns.map((column, i) => {
            const x0 = left + i * slot + 6;
            return (
              <g key={column.key} data-key={column.key}>
                {groups.map((group, g) => {
                  let top = COLUMN_AREA + 8;
                  return group.map((series) => {
                    const value = column.values[series.key] ?? 0;
                    if (value === 0) return null;
                    const h = scale(value);
                    top -= h;
                    return (
                      <rect
                        key={series.key}
                        class={`segment s${allSeries.indexOf(series) % SERIES_CLASSES}`}
                        x={x0 + g * (barWidth + 2)}
                        y={top}
                        width={barWidth}
                        height={h}
                      />
                    );
                  });
                })}
                {i % labelEvery === 0 && (
                  <text class="tick" x={x0 + (groups.length * (barWidth + 2)) / 2} y={COLUMN_AREA + 24} text-anchor="middle">
                    {column.label}
                  </text>
                )}
              </g>
            );
          })}
        </svg>
      </div>
      <figcaption class="legend">
        {allSeries.map((series, i) => (
          <span key={series.key}>
            <svg width="12" height="12" aria-hidden="true">
              <rect class={`segment s${i % SERIES_CLASSES}`} width="12" height="12" />
            </svg>{' '}
            {series.label}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
