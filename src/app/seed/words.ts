/** A word list written as one `|`-separated string, so the formatter keeps it compact. */
function list(words: string): readonly string[] {
  return words.split('|');
}

export const NAME_ADJECTIVES = list(
  'Grand|Royal|Blue|Golden|Silver|Green|Little|Urban|Quiet|Sunny|Imperial|Old Town|Majestic|Cozy|Modern|Crystal|Emerald|Velvet|Northern|Coastal|Hidden|Happy|Noble|Wild',
);

export const NAME_NOUNS = list(
  'Harbor|Palm|Garden|Tower|River|Park|Plaza|Bay|Hill|Bridge|Lighthouse|Meadow|Oak|Pearl|Lantern|Anchor|Compass|Crown|Fountain|Orchard|Cathedral|Market|Station|Canal|Summit|Willow|Falcon|Lotus|Mill|Gallery',
);

export const HOTEL_TYPES_BUDGET = list('Hotel|Hotel|Inn|Hostel|Lodge|Guesthouse|Aparthotel');
export const HOTEL_TYPES_LUXURY = list('Hotel|Hotel|Resort|Boutique Hotel|Palace|Spa Hotel');

export const STYLES_BUDGET = list('cosy|simple|friendly|budget-friendly|family-run|lively|charming');
export const STYLES_LUXURY = list('elegant|luxurious|stylish|historic|contemporary|design|refined');

export const CITY_PHRASES = list(
  'in the heart of the city|near the old town|close to the main train station|in a quiet residential street|next to the business district|by the river|within walking distance of the museums|near the airport|on a lively shopping street|overlooking the park',
);

export const BEACH_PHRASES = list(
  'steps from the beach|on the seafront|overlooking the bay|right on the beach promenade',
);

export const AUDIENCE_SENTENCES = [
  'Perfect for families with kids, with spacious family rooms and a playground.',
  'Ideal for business travellers, with meeting rooms and fast wifi.',
  'A romantic choice for couples, with candlelit dinners and city views.',
  'Popular with backpackers and solo travellers on a budget.',
  'Great for a weekend city break close to the nightlife.',
  'Pet friendly: dogs are welcome in every room.',
  'The rooftop bar offers sweeping views of the skyline at sunset.',
  'Unwind in the spa with sauna, steam room and massage treatments.',
  'Start the day with a generous breakfast buffet of local produce.',
  'Recently renovated rooms with soundproof windows and rain showers.',
  'Quiet and green, a calm retreat away from the crowds.',
  'Famous for its restaurant serving seasonal regional cuisine.',
];

/** [name, base probability]; beach access only in coastal cities. Later entries are the rarer, more telling ones. */
export const HOTEL_AMENITIES: readonly (readonly [string, number])[] = [
  ['wifi', 0.9],
  ['24h reception', 0.55],
  ['air conditioning', 0.55],
  ['parking', 0.45],
  ['breakfast', 0.55],
  ['restaurant', 0.45],
  ['bar', 0.45],
  ['laundry', 0.35],
  ['family rooms', 0.4],
  ['pet friendly', 0.25],
  ['gym', 0.3],
  ['business center', 0.2],
  ['airport shuttle', 0.18],
  ['pool', 0.22],
  ['sauna', 0.14],
  ['spa', 0.13],
  ['ev charging', 0.12],
  ['kids club', 0.08],
  ['rooftop bar', 0.09],
  ['beach access', 0.45],
];

export const ROOM_AMENITIES = list(
  'wifi|air conditioning|tv|minibar|safe|balcony|city view|sea view|bathtub|kitchenette|coffee machine|desk',
);

/** [name, capacity, price multiplier, beds, size in m²], cheapest first: a hotel takes a consecutive run. */
export const ROOM_TEMPLATES: readonly (readonly [string, number, number, string, number])[] = [
  ['Single Room', 1, 0.7, 'one single bed', 14],
  ['Standard Double Room', 2, 1.0, 'one double bed', 18],
  ['Twin Room', 2, 1.0, 'two single beds', 20],
  ['Superior Double Room', 2, 1.25, 'one queen bed', 24],
  ['Triple Room', 3, 1.35, 'one double and one single bed', 26],
  ['Deluxe King Room', 2, 1.5, 'one king bed', 28],
  ['Family Room', 4, 1.7, 'one double bed and bunk beds', 32],
  ['Junior Suite', 3, 2.0, 'one king bed and a sofa bed', 40],
  ['Executive Suite', 4, 2.6, 'one king bed, a sofa bed and a separate living room', 55],
  ['Family Suite', 5, 2.8, 'one king bed, two single beds and a sofa bed', 60],
  ['Penthouse Suite', 6, 3.2, 'two king beds, a sofa bed and a private terrace', 85],
];

/** Euro cents per night for a standard double room, by stars (index 0 = 1 star). */
export const STAR_BASE_PRICE_EUR_CENTS = [4500, 7000, 10500, 16000, 26000];

export const FIRST_NAMES = list(
  'Emma|Liam|Olivia|Noah|Sophia|Lucas|Mia|Mateo|Amelia|Leon|Chloe|Hugo|Yuki|Hiro|Aisha|Omar|Lena|Jonas|Sara|Marco|Giulia|Pablo|Lucia|Finn|Freya|Arjun|Priya|Chen|Mei|Ana|Joao|Ingrid|Lars|Zoe|Ethan|Grace',
);

export const LAST_NAMES = list(
  'Smith|Garcia|Muller|Rossi|Dubois|Tanaka|Silva|Jansen|Novak|Kowalski|Johansson|Murphy|Brown|Lopez|Schmidt|Bianchi|Martin|Sato|Costa|Nielsen|Horvat|Papadopoulos|Yilmaz|Khan|Patel|Wong|Kim|Ahmed|Fischer|Moreau',
);

export const STREET_NAMES = list(
  'Main|Station|Market|Harbour|Church|Park|River|Castle|Garden|King|Queen|Bridge|Mill|Victoria|Liberty|Ocean|Cedar|Elm|Chestnut|Lake',
);

export const STREET_SUFFIXES = ['Street', 'Avenue', 'Road', 'Square', 'Boulevard', 'Lane', 'Quay'];

/** Review titles by rating (index 0 = 1 star). */
export const REVIEW_TITLES = [
  ['Terrible stay', 'Would not recommend', 'Very disappointing', 'Avoid'],
  ['Below expectations', 'Not great', 'Overpriced for what it is', 'Needs renovation'],
  ['Okay for the price', 'Decent stay', 'Average hotel', 'Fine for one night'],
  ['Great stay', 'Very pleasant', 'Would come back', 'Good value'],
  ['Absolutely wonderful', 'Perfect stay', 'Best hotel in town', 'Exceptional service'],
];

export const REVIEW_ASPECTS = list('staff|breakfast|location|room|bed|bathroom|view|pool|wifi');

/** Adjectives by rating (index 0 = 1 star). */
export const REVIEW_ADJECTIVES = [
  ['dirty', 'awful', 'rude', 'noisy'],
  ['tired', 'disappointing', 'mediocre', 'cramped'],
  ['fine', 'acceptable', 'decent', 'okay'],
  ['clean', 'friendly', 'comfortable', 'lovely'],
  ['spotless', 'outstanding', 'amazing', 'superb'],
];

export const TRIP_NAMES = ['Weekend in %', '% getaway', 'Business trip to %', 'Holiday in %', 'Visiting %'];

/** Closing sentence of a review by rating (index 0 = 1 star). */
export const REVIEW_CLOSINGS = [
  'We will not stay here again.',
  'We expected more for the price.',
  'Fine for a short stay.',
  'We would happily come back.',
  'We cannot wait to return!',
];
