/**
 * Stations drawn from their own coordinates, with no map tiles (the servers have no internet): an
 * SVG plot scaled to the points' bounding box (longitude shrunk by cos(latitude), so distances look
 * right), over an outline derived from the points themselves — their convex hull, padded — which is
 * labelled as such and never passed off as an administrative boundary. Every point is a focusable
 * list item with its name, and the figure has a text description for screen readers.
 */
import { useMemo } from 'react';

export interface MapPoint {
  key: string;
  label: string;
  lat: number;
  lon: number;
  /** Shown under the name in the tooltip (e.g. "3星 · 1.2 公里"). */
  detail?: string;
}

const WIDTH = 600;
const HEIGHT = 360;
const PAD = 36;
// one degree of latitude (and of longitude times cos(latitude)), in km
const KM_PER_DEGREE = 111.32;

type XY = [number, number];

/** Andrew's monotone chain; points in, hull out (counter-clockwise). */
export function convexHull(points: XY[]): XY[] {
  const p = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (p.length < 3) return p;
  const cross = (o: XY, a: XY, b: XY) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: XY[] = [];
  for (const q of p) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], q) <= 0) lower.pop();
    lower.push(q);
  }
  const upper: XY[] = [];
  for (const q of [...p].reverse()) {
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], q) <= 0) upper.pop();
    upper.push(q);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

/** Where each point goes in the SVG (one scale for both axes, the extent centred), the extent's
 *  east–west width in km, and the whole view's width in km (for the scale bar). */
export function project(points: { lat: number; lon: number }[]) {
  const lats = points.map((p) => p.lat);
  const lons = points.map((p) => p.lon);
  let [minLat, maxLat, minLon, maxLon] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
  // one point, or all on one spot: show about 2 km around it
  if (maxLat - minLat < 0.01) [minLat, maxLat] = [(minLat + maxLat) / 2 - 0.01, (minLat + maxLat) / 2 + 0.01];
  if (maxLon - minLon < 0.01) [minLon, maxLon] = [(minLon + maxLon) / 2 - 0.01, (minLon + maxLon) / 2 + 0.01];
  const k = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
  const spanX = (maxLon - minLon) * k;
  const spanY = maxLat - minLat;
  const scale = Math.min((WIDTH - 2 * PAD) / spanX, (HEIGHT - 2 * PAD) / spanY);
  const offX = (WIDTH - spanX * scale) / 2;
  const offY = (HEIGHT - spanY * scale) / 2;
  const at = (lat: number, lon: number): XY => [offX + (lon - minLon) * k * scale, offY + (maxLat - lat) * scale];
  return { at, height: HEIGHT, widthKm: spanX * KM_PER_DEGREE, viewKm: (WIDTH / scale) * KM_PER_DEGREE, scale };
}

function padded(hull: XY[], by: number): XY[] {
  const cx = hull.reduce((s, p) => s + p[0], 0) / hull.length;
  const cy = hull.reduce((s, p) => s + p[1], 0) / hull.length;
  return hull.map(([x, y]) => {
    const d = Math.hypot(x - cx, y - cy) || 1;
    return [x + ((x - cx) / d) * by, y + ((y - cy) / d) * by];
  });
}

export function StationMap({
  points,
  origin,
  selected,
  onSelect,
  title = '驿站分布示意图',
}: {
  points: MapPoint[];
  /** The searched point (你的位置) in the finder. */
  origin?: { lat: number; lon: number } | null;
  selected?: string | null;
  onSelect?: (key: string) => void;
  title?: string;
}) {
  const all = useMemo(() => [...points, ...(origin ? [origin] : [])], [points, origin]);
  const view = useMemo(() => (all.length ? project(all) : null), [all]);
  if (!view) {
    return (
      <div className="hj-sn-map-empty" role="note">
        暂无可显示的站点坐标
      </div>
    );
  }
  const xy = points.map((p) => view.at(p.lat, p.lon));
  const hull = xy.length >= 3 ? padded(convexHull(xy), 18) : null;
  const box = xy.length && !hull
    ? [Math.min(...xy.map((p) => p[0])) - 18, Math.min(...xy.map((p) => p[1])) - 18, Math.max(...xy.map((p) => p[0])) + 18, Math.max(...xy.map((p) => p[1])) + 18]
    : null;
  // a round length for the scale bar, about a fifth of the width
  const target = view.viewKm / 5;
  const step = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500].find((s) => s >= target) ?? 1000;
  const barPx = (step / KM_PER_DEGREE) * view.scale;
  const o = origin ? view.at(origin.lat, origin.lon) : null;
  const desc = `${points.length} 个站点，东西约 ${view.widthKm.toFixed(1)} 公里。浅色区域是由站点坐标推算的分布范围，并非行政区划边界。`;
  return (
    <figure className="hj-sn-map" style={{ margin: 0 }}>
      <svg viewBox={`0 0 ${WIDTH} ${view.height}`} width="100%" role="group" aria-labelledby="hj-sn-map-title hj-sn-map-desc" data-testid="station-map" style={{ background: '#f4f8fb', borderRadius: 8 }}>
        <title id="hj-sn-map-title">{title}</title>
        <desc id="hj-sn-map-desc">{desc}</desc>
        {hull && <polygon points={hull.map((p) => p.join(',')).join(' ')} fill="#e6eef5" stroke="#9fb6cc" strokeDasharray="4 3" data-testid="station-map-outline" />}
        {box && <rect x={box[0]} y={box[1]} width={box[2] - box[0]} height={box[3] - box[1]} fill="#e6eef5" stroke="#9fb6cc" strokeDasharray="4 3" data-testid="station-map-outline" />}
        {o && (
          <g aria-label="查询位置" role="img">
            <circle cx={o[0]} cy={o[1]} r={7} fill="#1677ff" fillOpacity={0.25} />
            <circle cx={o[0]} cy={o[1]} r={3} fill="#1677ff" />
          </g>
        )}
        <g role="list" aria-label="站点">
          {points.map((p, i) => {
            const [x, y] = xy[i];
            const on = selected === p.key;
            const label = `${p.label}${p.detail ? `，${p.detail}` : ''}`;
            return (
              <g
                key={p.key}
                role="listitem"
                tabIndex={0}
                aria-label={label}
                data-station={p.key}
                style={{ cursor: onSelect ? 'pointer' : undefined }}
                onClick={() => onSelect?.(p.key)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' || e.key === ' ') onSelect?.(p.key);
                }}
              >
                <title>{label}</title>
                <circle cx={x} cy={y} r={on ? 8 : 6} fill={on ? '#fa8c16' : '#c8161d'} stroke="#fff" strokeWidth={2} />
                {points.length <= 30 && (
                  // labels of points near the right edge go to their left, so none is cut off
                  <text x={x > WIDTH * 0.7 ? x - 9 : x + 9} y={y + 4} fontSize={12} fill="#333" textAnchor={x > WIDTH * 0.7 ? 'end' : 'start'}>
                    {p.label}
                  </text>
                )}
              </g>
            );
          })}
        </g>
        <g aria-hidden="true">
          <line x1={16} x2={16 + barPx} y1={view.height - 14} y2={view.height - 14} stroke="#333" strokeWidth={2} />
          <text x={16} y={view.height - 20} fontSize={11} fill="#333">
            {step < 1 ? `${step * 1000} 米` : `${step} 公里`}
          </text>
          <text x={WIDTH - 8} y={16} fontSize={11} fill="#333" textAnchor="end">
            北 ↑
          </text>
        </g>
      </svg>
      <figcaption style={{ fontSize: 12, color: '#666', marginTop: 4 }}>浅色区域为由站点坐标推算的分布范围示意，非行政区划边界；坐标为 WGS-84。</figcaption>
    </figure>
  );
}
