import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { appError } from '../../platform/errors/index.ts';
import { BEARER } from '../common/schemas.ts';
import { CHALLENGE, currentUser } from './auth-plugin.ts';
import { LoginBody, PublicUser, RefreshBody, RegisterBody, Session } from './auth-schema.ts';
import type { AuthService } from './auth-service.ts';

export interface AuthRoutesOptions {
  readonly auth: AuthService;
}

/** Mounted at /api. */
export const authRoutes: FastifyPluginAsyncTypebox<AuthRoutesOptions> = async (app, { auth }) => {
  app.post(
    '/auth/register',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create an account and a session',
        body: RegisterBody,
        response: { 201: Session },
      },
    },
    async (request, reply) => reply.code(201).send(await auth.register(request.body)),
  );

  app.post(
    '/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log in; failed attempts are throttled per account and per address',
        body: LoginBody,
        response: { 200: Session },
      },
    },
    async (request) => auth.login(request.body, request.ip),
  );

  app.post(
    '/auth/refresh',
    {
      schema: {
        tags: ['auth'],
        summary: 'Exchange a refresh token for a new pair (the old one stops working)',
        body: RefreshBody,
        response: { 200: Session },
      },
    },
    async (request) => auth.refresh(request.body.refreshToken, request.ip),
  );

  app.post(
    '/auth/logout',
    {
      schema: {
        tags: ['auth'],
        summary: 'Revoke the refresh token and every token rotated from it',
        body: RefreshBody,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await auth.logout(request.body.refreshToken);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/me',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['auth'],
        summary: 'The logged-in user',
        security: BEARER,
        response: { 200: PublicUser },
      },
    },
    async (request) => {
      const user = await auth.me(currentUser(request).id);
      // A valid token for a deleted account.
      if (!user) throw appError('UNAUTHORIZED', 'This account no longer exists', { headers: CHALLENGE });
      return user;
    },
  );
};
