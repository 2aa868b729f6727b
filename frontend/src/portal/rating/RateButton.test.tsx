import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import type { ReactNode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Providers } from '../../router';
import { PORTAL_SESSION_KEY, SESSION_KEY, setSessionKey, startSession } from '../../auth/session';
import { mockGraphQL } from '../../test/utils';
import { WorkerContextProvider, type Worker } from '../worker';
import MyBenefits from '../../capabilities/warmth/MyBenefits';
import MyCases from '../../capabilities/hardship/MyCases';
import { dbIdOf } from './RateButton';

vi.setConfig({ testTimeout: 30_000 });

const WORKER: Worker = {
  id: 'V29ya2VyQWNjb3VudDox', name: '孙师傅', idNumberMasked: '350102********1234', phoneMasked: '137****0001', status: 'MEMBER',
  memberId: 'TWVtYmVyOjE=', joinDeadlineWorkingDays: 3, capabilities: ['warmth', 'hardship', 'service_network'], provinceName: '福建省总工会',
};

function renderPage(element: ReactNode, worker: Worker = WORKER) {
  const router = createMemoryRouter([{ path: '/', element }], { initialEntries: ['/'] });
  render(
    <Providers>
      <WorkerContextProvider value={{ worker, reload: async () => {} }}>
        <RouterProvider router={router} />
      </WorkerContextProvider>
    </Providers>,
  );
}

function benefit(over: Record<string, unknown> = {}) {
  return {
    id: '41', memberId: 'TWVtYmVyOjE=', group: 'holiday_frontline', reason: '名单', amountFen: 10_000, frozen: true, paid: true,
    paidAt: '2026-01-20T02:00:00Z', itemGiven: null, receiptStatus: 'unconfirmed', receiptMethod: null, receiptAt: null, ...over,
  };
}

beforeEach(() => {
  setSessionKey(PORTAL_SESSION_KEY);
  startSession({ token: 't', expiresAt: '2099-01-01T00:00:00Z', tenantCode: 'fujian', username: '孙师傅' });
});

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
  setSessionKey(SESSION_KEY);
});

describe('评价 beside what a worker used', () => {
  it('rates a received benefit by its database id; not one still to be given; NOT_ELIGIBLE in Chinese', async () => {
    const sent: Record<string, unknown>[] = [];
    let rated: { stars: number; comment: string; version: number } | null = null;
    mockGraphQL(({ query, variables }) => {
      if (query.includes('workerRatingSubmit')) {
        sent.push(variables);
        if (sent.length === 1) {
          return { json: { data: { workerRatingSubmit: { rating: null, errors: [{ field: 'subjectId', code: 'NOT_ELIGIBLE', message: 'x', messageZh: null }] } } } };
        }
        rated = { stars: variables.stars as number, comment: variables.comment as string, version: 1 };
        return { json: { data: { workerRatingSubmit: { rating: { id: 'UmF0aW5nOjE=', ...rated }, errors: [] } } } };
      }
      if (query.includes('myRatings')) {
        expect(variables.subjectType).toBe('warmth_benefit');
        const rows = rated ? [{ id: 'UmF0aW5nOjE=', subjectType: 'warmth_benefit', subjectId: 41, ratedAt: '2026-01-21T02:00:00Z', ...rated }] : [];
        return { json: { data: { myRatings: rows } } };
      }
      return {
        json: { data: { myWarmthBenefits: [
          { campaignName: '2026年春节送温暖', beneficiary: benefit() },
          { campaignName: '夏送清凉', beneficiary: benefit({ id: '42', paid: false, paidAt: null, receiptStatus: 'not_given' }) },
        ] } },
      };
    });
    renderPage(<MyBenefits />);
    const [given, pending] = await screen.findAllByTestId('my-warmth-benefit');
    expect(within(pending).queryByRole('button', { name: /^评\s?价$/ })).toBeNull();
    await userEvent.click(within(given).getByRole('button', { name: /^评\s?价$/ }));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByText('评价：2026年春节送温暖')).toBeInTheDocument();
    await userEvent.click(within(dialog).getByRole('button', { name: /提交评价/ }));
    expect(await within(dialog).findByText('请打分（1至5星）')).toBeInTheDocument();
    await userEvent.click(within(dialog.querySelector<HTMLElement>('ul.ant-rate')!).getAllByRole('radio')[3]);
    fireEvent.change(within(dialog).getByLabelText('意见建议'), { target: { value: ' 很及时 ' } });
    await userEvent.click(within(dialog).getByRole('button', { name: /提交评价/ }));
    expect(await within(dialog).findByText('您还没有使用过这项服务，暂不能评价')).toBeInTheDocument();
    await userEvent.click(within(dialog).getByRole('button', { name: /提交评价/ }));
    await waitFor(() => expect(within(given).getByTestId('my-rating')).toBeInTheDocument());
    expect(within(given).getByRole('button', { name: '修改评价' })).toBeInTheDocument();
    expect(sent[1]).toEqual({ subjectType: 'warmth_benefit', subjectId: 41, stars: 4, dimensions: [], comment: '很及时' });
  });

  it('shows my rating of a paid grant, prefilled for a change, and nothing where the province does not rate', async () => {
    expect(dbIdOf('SGFyZHNoaXBHcmFudDo3')).toBe(7);
    mockGraphQL(({ query }) => {
      if (query.includes('myRatings')) {
        return { json: { data: { myRatings: [{ id: 'UmF0aW5nOjI=', subjectType: 'hardship_grant', subjectId: 7, stars: 2, comment: '到账慢', version: 1, ratedAt: '2026-01-21T02:00:00Z' }] } } };
      }
      return {
        json: { data: { myHardshipCases: [{
          id: 'SGFyZHNoaXBNeUNhc2U6MQ==', state: 'archived', stateLabel: '已建档', category: 'deep', categoryLabel: '深度困难', reasons: [],
          createdAt: '2026-01-01T02:00:00Z', timeline: [],
          grants: [
            { id: 'SGFyZHNoaXBHcmFudDo3', aidTypeLabel: '临时救助', amountFen: 50_000, state: 'paid', stateLabel: '已发放', createdAt: '2026-01-02T02:00:00Z' },
            { id: 'SGFyZHNoaXBHcmFudDo4', aidTypeLabel: '医疗救助', amountFen: 20_000, state: 'proposed', stateLabel: '待审批', createdAt: '2026-01-03T02:00:00Z' },
          ],
        }] } },
      };
    });
    renderPage(<MyCases />);
    const [paid, proposed] = await screen.findAllByTestId('my-hardship-grant');
    expect(await within(paid).findByTestId('my-rating')).toBeInTheDocument();
    expect(within(proposed).queryByRole('button', { name: /评价/ })).toBeNull();
    await userEvent.click(within(paid).getByRole('button', { name: '修改评价' }));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByLabelText('意见建议')).toHaveValue('到账慢');
    expect(within(dialog).getByText(/再次提交将替换您之前的评价/)).toBeInTheDocument();
  });

  it('offers no rating where the province has not enabled the service network', async () => {
    const queries: string[] = [];
    mockGraphQL(({ query }) => {
      queries.push(query);
      return { json: { data: { myWarmthBenefits: [{ campaignName: '2026年春节送温暖', beneficiary: benefit() }] } } };
    });
    renderPage(<MyBenefits />, { ...WORKER, capabilities: ['warmth'] });
    await screen.findByTestId('my-warmth-benefit');
    expect(screen.queryByRole('button', { name: /评价/ })).toBeNull();
    expect(queries.some((q) => q.includes('myRatings'))).toBe(false);
  });
});
