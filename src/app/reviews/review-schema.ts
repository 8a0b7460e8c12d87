import Type, { type Static } from 'typebox';
import { Id, Limit, Page, Paged } from '../common/schemas.ts';

export const REVIEW_SORTS = ['newest', 'highest', 'lowest'] as const;
export type ReviewSort = (typeof REVIEW_SORTS)[number];

export const ReviewListQuery = Type.Object(
  {
    page: Page,
    limit: Limit,
    sort: Type.Union(
      REVIEW_SORTS.map((s) => Type.Literal(s)),
      { default: 'newest', description: 'newest first, or by rating (ties: newest first)' },
    ),
  },
  { additionalProperties: false },
);
export type ReviewListQuery = Static<typeof ReviewListQuery>;

export const CreateReviewBody = Type.Object(
  {
    rating: Type.Integer({ minimum: 1, maximum: 5 }),
    title: Type.Optional(Type.String({ maxLength: 200, default: '' })),
    body: Type.Optional(Type.String({ maxLength: 5000, default: '' })),
  },
  { additionalProperties: false },
);
export type CreateReviewBody = Static<typeof CreateReviewBody>;

export const Review = Type.Object({
  id: Id,
  rating: Type.Integer(),
  title: Type.String(),
  body: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  author: Type.Object({ id: Id, name: Type.String() }),
});
export type Review = Static<typeof Review>;

export const ReviewPage = Paged(Review);
export type ReviewPage = Static<typeof ReviewPage>;
