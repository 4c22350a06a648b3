/**
 * The demo county's tariff table. Shapes follow the calculation contract (docs/calculations.md, calc bill); the prices
 * are illustrative values in the range of published provincial tables (docs/DOMAIN.md §3), not an
 * official price list, and each version says so in its source.
 */
export interface DemoTariff {
  readonly code: string;
  readonly name: string;
  readonly nameEn: string;
  readonly category: 'residential' | 'commercial' | 'large_industry' | 'agriculture' | 'temporary';
  readonly structure: 'flat' | 'tiered' | 'tou' | 'tiered_tou' | 'two_part';
  readonly versions: readonly {
    readonly effectiveFrom: string;
    readonly definition: Record<string, unknown>;
  }[];
}

const SOURCE =
  'GridCollect demo county: illustrative prices modelled on docs/DOMAIN.md §3, not an official table';
export const DEMO_JURISDICTION = '示范省 (demo province)';
export { SOURCE as DEMO_TARIFF_SOURCE };

// Seasonal time-of-use floating (docs/DOMAIN.md §3.4, a provincial table): summer (Jul–Sep) and winter
// (Jan, Dec) peak +80%, valley −60%; other months peak +60%, valley −50%; sharp = peak +25%.
const ciSeasons = [
  { months: [1, 7, 8, 9, 12], ratios: { peak: '1.8', valley: '0.4' } },
  { months: [2, 3, 4, 5, 6, 10, 11], ratios: { peak: '1.6', valley: '0.5' } },
];
const industrySeasons = [
  { months: [1, 7, 8, 9, 12], ratios: { sharp: '2.25', peak: '1.8', valley: '0.4' } },
  { months: [2, 3, 4, 5, 6, 10, 11], ratios: { sharp: '2', peak: '1.6', valley: '0.5' } },
];

/** A two-part (两部制) tariff at 1–10 kV: energy floating by season, basic charge, PF standard 0.90. */
function twoPart(
  code: string,
  basisZh: string,
  basisEn: string,
  basic: { by: 'capacity' | 'demand'; rate: string },
): DemoTariff {
  return {
    code,
    name: `工商业两部制 (按${basisZh}, 1-10千伏)`,
    nameEn: `Two-part tariff by ${basisEn}, 1–10 kV`,
    category: 'large_industry',
    structure: 'two_part',
    versions: [
      {
        effectiveFrom: '2023-01-01',
        definition: {
          energy: { flat: '0.5698' },
          touSchedule: industrySeasons,
          basic,
          pfStandard: '0.90',
          funds: '0.0459',
        },
      },
    ],
  };
}

const residentialTiers = {
  basis: 'annual',
  thresholds: [2160, 4200],
  increments: ['0.05', '0.30'],
  largeHouseholdExtraKwhPerMonth: 100,
  largeHouseholdMinPersons: 5,
};

export const DEMO_TARIFFS: readonly DemoTariff[] = [
  {
    code: 'RES-TIER',
    name: '居民生活用电 (一户一表, 年阶梯)',
    nameEn: 'Residential, annual tiers',
    category: 'residential',
    structure: 'tiered',
    versions: [
      {
        effectiveFrom: '2023-01-01',
        definition: { energy: { flat: '0.5200' }, tiers: residentialTiers, funds: '0.0181' },
      },
      {
        effectiveFrom: '2025-07-01',
        definition: { energy: { flat: '0.5283' }, tiers: residentialTiers, funds: '0.0181' },
      },
    ],
  },
  {
    code: 'RES-TIER-TOU',
    name: '居民生活用电 (峰谷, 年阶梯)',
    nameEn: 'Residential, time of use with annual tiers',
    category: 'residential',
    structure: 'tiered_tou',
    versions: [
      {
        effectiveFrom: '2023-01-01',
        definition: {
          energy: { peak: '0.5500', valley: '0.3000' },
          tiers: residentialTiers,
          funds: '0.0181',
          touWindows: { peak: '08:00-22:00', valley: '22:00-08:00' },
        },
      },
      {
        effectiveFrom: '2025-07-01',
        definition: {
          energy: { peak: '0.5583', valley: '0.3083' },
          tiers: residentialTiers,
          funds: '0.0181',
          touWindows: { peak: '08:00-22:00', valley: '22:00-08:00' },
        },
      },
    ],
  },
  {
    code: 'CI-SINGLE',
    name: '工商业用电 (单一制, 不满1千伏)',
    nameEn: 'Commercial and industrial, single-part, below 1 kV',
    category: 'commercial',
    structure: 'flat',
    versions: [{ effectiveFrom: '2023-01-01', definition: { energy: { flat: '0.6620' }, funds: '0.0459' } }],
  },
  {
    code: 'CI-TOU',
    name: '工商业用电 (单一制, 峰谷分时)',
    nameEn: 'Commercial and industrial, single-part, time of use',
    category: 'commercial',
    structure: 'tou',
    versions: [
      {
        effectiveFrom: '2023-01-01',
        definition: {
          energy: { flat: '0.6620' },
          touSchedule: ciSeasons,
          funds: '0.0459',
          pfStandard: '0.85',
        },
      },
    ],
  },
  twoPart('LI-2P-CAP', '容量', 'capacity', { by: 'capacity', rate: '23.33' }),
  twoPart('LI-2P-DEM', '需量', 'demand', { by: 'demand', rate: '35.00' }),
  {
    code: 'AGRI',
    name: '农业生产用电',
    nameEn: 'Agricultural production',
    category: 'agriculture',
    structure: 'flat',
    versions: [
      { effectiveFrom: '2023-01-01', definition: { energy: { flat: '0.4850' }, funds: '0.0062' } },
      { effectiveFrom: '2025-07-01', definition: { energy: { flat: '0.4750' }, funds: '0.0062' } },
    ],
  },
  {
    code: 'TEMP',
    name: '临时用电 (工商业)',
    nameEn: 'Temporary supply (commercial)',
    category: 'temporary',
    structure: 'flat',
    versions: [{ effectiveFrom: '2023-01-01', definition: { energy: { flat: '0.6620' }, funds: '0.0459' } }],
  },
];
