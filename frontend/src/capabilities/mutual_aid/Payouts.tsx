/** 给付管理: approved claims waiting for finance to pay them from the plan's fund. */
import { ClaimsPage } from './Claims';

export default function MutualAidPayouts() {
  return <ClaimsPage payouts />;
}
