#!/bin/sh
# Stand-in for Prisma's native schema engine, which cannot be downloaded here.
# `prisma generate` only checks that the engine file exists; any command that
# really needs the engine (migrate, db push, introspection) lands here instead.
echo "The native Prisma schema engine is not installed on this machine." >&2
echo "Use: npm run db:migration -- <name>   (create a migration)" >&2
echo "     npm run db:check                 (verify migrations match schema.prisma)" >&2
echo "Migrations are applied automatically when the app opens its database." >&2
exit 1
