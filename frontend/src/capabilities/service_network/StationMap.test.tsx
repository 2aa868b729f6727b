import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { StationMap, convexHull, project } from './StationMap';

const FUZHOU = [
  { key: 'a', label: '五四路驿站', lat: 26.08, lon: 119.3 },
  { key: 'b', label: '台江驿站', lat: 26.05, lon: 119.31 },
  { key: 'c', label: '仓山驿站', lat: 26.03, lon: 119.27 },
  { key: 'd', label: '中间驿站', lat: 26.05, lon: 119.29 },
];

describe('convexHull', () => {
  it('keeps the outer points and drops the inner one', () => {
    const hull = convexHull([[0, 0], [10, 0], [10, 10], [0, 10], [5, 5]]);
    expect(hull).toHaveLength(4);
    expect(hull).not.toContainEqual([5, 5]);
  });
});

describe('project', () => {
  it('puts north up and east right, scaled to the bounding box', () => {
    const v = project(FUZHOU);
    const [x1, y1] = v.at(26.08, 119.3);
    const [x2, y2] = v.at(26.03, 119.27);
    expect(y1).toBeLessThan(y2); // further north is higher up
    expect(x1).toBeGreaterThan(x2); // further east is to the right
    // 0.04° of longitude at 26°N is about 4 km
    expect(v.widthKm).toBeGreaterThan(3.5);
  });

  it('gives a single point a view of its surroundings instead of dividing by zero', () => {
    const v = project([{ lat: 26.08, lon: 119.3 }]);
    const [x, y] = v.at(26.08, 119.3);
    expect(Number.isFinite(x) && Number.isFinite(y)).toBe(true);
  });
});

describe('StationMap', () => {
  it('draws every station as a labelled, focusable point over the derived outline', async () => {
    const onSelect = vi.fn();
    render(<StationMap points={FUZHOU.map((p) => ({ ...p, detail: '3星' }))} onSelect={onSelect} />);
    const map = screen.getByTestId('station-map');
    const items = within(map).getAllByRole('listitem');
    expect(items).toHaveLength(4);
    expect(items[0]).toHaveAttribute('aria-label', '五四路驿站，3星');
    expect(screen.getByTestId('station-map-outline').tagName).toBe('polygon');
    expect(map.querySelector('desc')?.textContent).toMatch(/4 个站点.*并非行政区划边界/);
    items[1].focus();
    await userEvent.keyboard('{Enter}');
    expect(onSelect).toHaveBeenCalledWith('b');
  });

  it('says so when there is nothing to draw', () => {
    render(<StationMap points={[]} />);
    expect(screen.getByText('暂无可显示的站点坐标')).toBeInTheDocument();
  });
});
