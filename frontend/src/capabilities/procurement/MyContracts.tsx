import { ContractsView } from './Contracts';

/** 我的合同 (an organisation's login): its contracts; it reports each milestone's delivery. */
export default function MyContracts() {
  return <ContractsView mine />;
}
