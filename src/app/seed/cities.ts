/** Units of each currency per euro, roughly; prices are generated in euros and converted. */
export const CURRENCY_PER_EUR: Record<string, number> = {
  EUR: 1,
  USD: 1.08,
  GBP: 0.85,
  JPY: 160,
  CHF: 0.95,
  AED: 4,
  THB: 38,
  CZK: 25,
  TRY: 35,
  SGD: 1.45,
  AUD: 1.65,
  DKK: 7.45,
  SEK: 11.3,
  HUF: 395,
  CAD: 1.48,
  MXN: 19,
  BRL: 5.6,
  ZAR: 20,
  MAD: 10.8,
  HKD: 8.4,
  NOK: 11.6,
  PLN: 4.3,
  ISK: 150,
  NZD: 1.8,
};

export interface City {
  readonly name: string;
  readonly country: string;
  readonly lat: number;
  readonly lng: number;
  readonly timezone: string;
  readonly currency: string;
  /** Price level relative to an average European city. */
  readonly priceFactor: number;
  /** Has beaches: enables beach words and amenities. */
  readonly coastal: boolean;
}

type Row = [string, string, number, number, string, string, number, boolean];

// Most popular first: hotels are spread over the list with a Zipf-like skew towards the top.
const ROWS: Row[] = [
  ['Paris', 'France', 48.8566, 2.3522, 'Europe/Paris', 'EUR', 1.35, false],
  ['London', 'United Kingdom', 51.5074, -0.1278, 'Europe/London', 'GBP', 1.4, false],
  ['New York', 'United States', 40.7128, -74.006, 'America/New_York', 'USD', 1.5, false],
  ['Barcelona', 'Spain', 41.3874, 2.1686, 'Europe/Madrid', 'EUR', 1.1, true],
  ['Rome', 'Italy', 41.9028, 12.4964, 'Europe/Rome', 'EUR', 1.15, false],
  ['Tokyo', 'Japan', 35.6762, 139.6503, 'Asia/Tokyo', 'JPY', 1.2, false],
  ['Amsterdam', 'Netherlands', 52.3676, 4.9041, 'Europe/Amsterdam', 'EUR', 1.3, false],
  ['Berlin', 'Germany', 52.52, 13.405, 'Europe/Berlin', 'EUR', 0.95, false],
  ['Lisbon', 'Portugal', 38.7223, -9.1393, 'Europe/Lisbon', 'EUR', 0.95, true],
  ['Dubai', 'United Arab Emirates', 25.2048, 55.2708, 'Asia/Dubai', 'AED', 1.3, true],
  ['Bangkok', 'Thailand', 13.7563, 100.5018, 'Asia/Bangkok', 'THB', 0.55, false],
  ['Prague', 'Czech Republic', 50.0755, 14.4378, 'Europe/Prague', 'CZK', 0.8, false],
  ['Vienna', 'Austria', 48.2082, 16.3738, 'Europe/Vienna', 'EUR', 1.0, false],
  ['Istanbul', 'Turkey', 41.0082, 28.9784, 'Europe/Istanbul', 'TRY', 0.7, false],
  ['Madrid', 'Spain', 40.4168, -3.7038, 'Europe/Madrid', 'EUR', 1.0, false],
  ['Singapore', 'Singapore', 1.3521, 103.8198, 'Asia/Singapore', 'SGD', 1.3, false],
  ['Los Angeles', 'United States', 34.0522, -118.2437, 'America/Los_Angeles', 'USD', 1.3, true],
  ['Miami', 'United States', 25.7617, -80.1918, 'America/New_York', 'USD', 1.25, true],
  ['Sydney', 'Australia', -33.8688, 151.2093, 'Australia/Sydney', 'AUD', 1.2, true],
  ['Milan', 'Italy', 45.4642, 9.19, 'Europe/Rome', 'EUR', 1.15, false],
  ['Florence', 'Italy', 43.7696, 11.2558, 'Europe/Rome', 'EUR', 1.1, false],
  ['Venice', 'Italy', 45.4408, 12.3155, 'Europe/Rome', 'EUR', 1.3, false],
  ['Munich', 'Germany', 48.1351, 11.582, 'Europe/Berlin', 'EUR', 1.1, false],
  ['Dublin', 'Ireland', 53.3498, -6.2603, 'Europe/Dublin', 'EUR', 1.2, false],
  ['Edinburgh', 'United Kingdom', 55.9533, -3.1883, 'Europe/London', 'GBP', 1.1, false],
  ['Copenhagen', 'Denmark', 55.6761, 12.5683, 'Europe/Copenhagen', 'DKK', 1.25, false],
  ['Stockholm', 'Sweden', 59.3293, 18.0686, 'Europe/Stockholm', 'SEK', 1.1, false],
  ['Budapest', 'Hungary', 47.4979, 19.0402, 'Europe/Budapest', 'HUF', 0.7, false],
  ['Athens', 'Greece', 37.9838, 23.7275, 'Europe/Athens', 'EUR', 0.85, true],
  ['San Francisco', 'United States', 37.7749, -122.4194, 'America/Los_Angeles', 'USD', 1.4, false],
  ['Las Vegas', 'United States', 36.1699, -115.1398, 'America/Los_Angeles', 'USD', 0.9, false],
  ['Chicago', 'United States', 41.8781, -87.6298, 'America/Chicago', 'USD', 1.1, false],
  ['Toronto', 'Canada', 43.6532, -79.3832, 'America/Toronto', 'CAD', 1.1, false],
  ['Vancouver', 'Canada', 49.2827, -123.1207, 'America/Vancouver', 'CAD', 1.15, true],
  ['Mexico City', 'Mexico', 19.4326, -99.1332, 'America/Mexico_City', 'MXN', 0.6, false],
  ['Cancun', 'Mexico', 21.1619, -86.8515, 'America/Cancun', 'MXN', 0.9, true],
  ['Rio de Janeiro', 'Brazil', -22.9068, -43.1729, 'America/Sao_Paulo', 'BRL', 0.7, true],
  ['Buenos Aires', 'Argentina', -34.6037, -58.3816, 'America/Argentina/Buenos_Aires', 'USD', 0.7, false],
  ['Cape Town', 'South Africa', -33.9249, 18.4241, 'Africa/Johannesburg', 'ZAR', 0.7, true],
  ['Marrakech', 'Morocco', 31.6295, -7.9811, 'Africa/Casablanca', 'MAD', 0.6, false],
  ['Kyoto', 'Japan', 35.0116, 135.7681, 'Asia/Tokyo', 'JPY', 1.1, false],
  ['Osaka', 'Japan', 34.6937, 135.5023, 'Asia/Tokyo', 'JPY', 0.9, false],
  ['Hong Kong', 'Hong Kong', 22.3193, 114.1694, 'Asia/Hong_Kong', 'HKD', 1.2, false],
  ['Zurich', 'Switzerland', 47.3769, 8.5417, 'Europe/Zurich', 'CHF', 1.5, false],
  ['Brussels', 'Belgium', 50.8503, 4.3517, 'Europe/Brussels', 'EUR', 0.95, false],
  ['Porto', 'Portugal', 41.1579, -8.6291, 'Europe/Lisbon', 'EUR', 0.85, true],
  ['Seville', 'Spain', 37.3891, -5.9845, 'Europe/Madrid', 'EUR', 0.85, false],
  ['Nice', 'France', 43.7102, 7.262, 'Europe/Paris', 'EUR', 1.15, true],
  ['Hamburg', 'Germany', 53.5511, 9.9937, 'Europe/Berlin', 'EUR', 0.95, false],
  ['Oslo', 'Norway', 59.9139, 10.7522, 'Europe/Oslo', 'NOK', 1.2, false],
  ['Helsinki', 'Finland', 60.1699, 24.9384, 'Europe/Helsinki', 'EUR', 1.0, false],
  ['Krakow', 'Poland', 50.0647, 19.945, 'Europe/Warsaw', 'PLN', 0.6, false],
  ['Reykjavik', 'Iceland', 64.1466, -21.9426, 'Atlantic/Reykjavik', 'ISK', 1.3, false],
  ['Dubrovnik', 'Croatia', 42.6507, 18.0944, 'Europe/Zagreb', 'EUR', 1.1, true],
  ['Valletta', 'Malta', 35.8989, 14.5146, 'Europe/Malta', 'EUR', 0.9, true],
  ['Melbourne', 'Australia', -37.8136, 144.9631, 'Australia/Melbourne', 'AUD', 1.1, false],
  ['Auckland', 'New Zealand', -36.8485, 174.7633, 'Pacific/Auckland', 'NZD', 1.0, true],
  ['Honolulu', 'United States', 21.3069, -157.8583, 'Pacific/Honolulu', 'USD', 1.4, true],
  ['Phuket', 'Thailand', 7.8804, 98.3923, 'Asia/Bangkok', 'THB', 0.7, true],
  ['Boston', 'United States', 42.3601, -71.0589, 'America/New_York', 'USD', 1.3, false],
  ['Montreal', 'Canada', 45.5019, -73.5674, 'America/Toronto', 'CAD', 0.95, false],
  ['Orlando', 'United States', 28.5383, -81.3792, 'America/New_York', 'USD', 0.9, false],
];

export const CITIES: readonly City[] = ROWS.map(
  ([name, country, lat, lng, timezone, currency, priceFactor, coastal]) => ({
    name,
    country,
    lat,
    lng,
    timezone,
    currency,
    priceFactor,
    coastal,
  }),
);
