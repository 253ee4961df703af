// Charts drawn with the vendored uPlot (vendor/uplot). Colours are the Okabe–Ito palette, told apart with colour-blind
// vision too; each chart also has its figures in a table beside it. Times on the axes are UTC, as the API's buckets.
import { fill, h } from './dom.js';

export const palette = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#000000', '#F0E442'];
export const failureColour = '#D55E00';

const observers = new WeakMap();
// Tick steps of the y axes: counts, so whole numbers only.
const wholeSteps = [1, 2, 5].flatMap(step => [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7].map(scale => step * scale)).sort((a, b) => a - b);
const utc = seconds => uPlot.tzDate(new Date(seconds * 1000), 'Etc/UTC');

/** Tick labels in UTC, 24-hour: "14:00", with the date under midnight; "11-23" when ticks are days apart. */
function timeTicks(plot, splits, axis, space, increment) {
  return splits.map(seconds => {
    const iso = new Date(seconds * 1000).toISOString();
    if (increment >= 86400) return iso.slice(5, 10);
    const time = iso.slice(11, 16);
    return time === '00:00' ? `${time}\n${iso.slice(5, 10)}` : time;
  });
}

/** A legend as text (series names are user input: never given to uPlot's own legend). */
export function legend(list, series) {
  fill(list, series.map(s => h('li', {}, h('span', { class: 'swatch', dataset: { colour: s.colour } }), s.label)));
  for (const swatch of list.querySelectorAll('.swatch')) swatch.style.backgroundColor = swatch.dataset.colour;
}

/**
 * A chart in container: x in seconds, series [{ label, colour, values, kind: 'bars' | 'line', scale }], stacked when
 * asked (each series' bar sits on those before it). Redrawn at the container's width when it changes.
 */
export function chart(container, previous, { x, series, stacked = false, height = 220 }) {
  previous?.destroy();
  observers.get(container)?.disconnect();
  container.replaceChildren();
  if (x.length === 0) {
    container.append(h('p', { class: 'empty' }, 'Nothing in this range.'));
    return null;
  }
  // Stacked bars: series i is drawn as the sum of 0..i, the tallest first, so each shows its own share on top.
  let drawn = series;
  if (stacked) {
    const sums = [];
    drawn = series.map((s, i) => {
      const values = s.values.map((v, j) => v + (i > 0 ? sums[i - 1][j] : 0));
      sums.push(values);
      return { ...s, values };
    }).reverse();
  }
  const bars = uPlot.paths.bars({ size: [0.8, 48], gap: 1 });
  const scales = [...new Set(drawn.map(s => s.scale || 'y'))];
  const options = {
    width: Math.max(container.clientWidth, 280),
    height,
    tzDate: utc,
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    // Counts: every y scale starts at 0 and reaches at least 1, so an empty series shows 0–1, not uPlot's 0–100.
    scales: Object.fromEntries([['x', { time: true }], ...scales.map(scale => [scale, { range: (u, min, max) => uPlot.rangeNum(0, Math.max(max, 1), 0.1, true) }])]),
    axes: [
      { stroke: '#333', grid: { stroke: '#e3e3e3' }, values: timeTicks },
      ...scales.map((scale, i) => ({ scale, side: i === 0 ? 3 : 1, stroke: '#333', grid: { show: i === 0, stroke: '#e3e3e3' }, size: 56, incrs: wholeSteps })),
    ],
    series: [{}, ...drawn.map(s => ({
      label: 'series',
      scale: s.scale || 'y',
      stroke: s.colour,
      width: s.kind === 'line' ? 2 : 0,
      fill: s.kind === 'line' ? undefined : s.colour,
      paths: s.kind === 'line' ? undefined : bars,
      points: { show: s.kind === 'line' && x.length < 40 },
    }))],
  };
  const plot = new uPlot(options, [x, ...drawn.map(s => s.values)], container);
  const observer = new ResizeObserver(() => {
    if (container.clientWidth > 0 && Math.abs(container.clientWidth - plot.width) > 4) plot.setSize({ width: container.clientWidth, height });
  });
  observer.observe(container);
  observers.set(container, observer);
  return plot;
}
