/**
 * Migrations where frameworks put them: one path per tool, from that tool's documented default layout (the
 * page is named next to it), must make the recommended preset's `database` rule fire (high).
 */
import { describe, expect, it } from "vitest";
import { defaultPolicy } from "../../src/policy/config.js";
import { assessRisk } from "../../src/policy/risk.js";
import { file, pr } from "./engine-helpers.js";

/** [tool, path in its default layout, where the layout is documented]. */
const LAYOUTS: Array<[string, string, string]> = [
  ["Flyway (Spring Boot / Java API default location)", "src/main/resources/db/migration/V1__Create_person_table.sql", "https://documentation.red-gate.com/fd/migrations-184127470.html"],
  ["Flyway (Java-based migration)", "src/main/java/db/migration/V3__Anonymize.java", "https://documentation.red-gate.com/fd/java-based-migrations-184127624.html"],
  ["Flyway (command-line configuration)", "flyway.toml", "https://documentation.red-gate.com/fd/configuration-files-224003079.html"],
  ["Liquibase (Spring Boot default change log)", "src/main/resources/db/changelog/db.changelog-master.yaml", "https://docs.spring.io/spring-boot/how-to/data-initialization.html#howto.data-initialization.migration-tool.liquibase"],
  ["Liquibase (an included changeset)", "src/main/resources/db/changelog/changes/20240520_create_users_table.yaml", "https://docs.liquibase.com/concepts/changelogs/attributes/include.html"],
  ["Liquibase (CLI defaults file)", "liquibase.properties", "https://docs.liquibase.com/concepts/connections/creating-config-properties.html"],
  ["Alembic (a revision)", "alembic/versions/1975ea83b712_create_account_table.py", "https://alembic.sqlalchemy.org/en/latest/tutorial.html"],
  ["Alembic (configuration)", "alembic.ini", "https://alembic.sqlalchemy.org/en/latest/tutorial.html"],
  ["Flask-Migrate (Alembic under Flask)", "migrations/versions/8f1ae1b5c3c4_initial.py", "https://flask-migrate.readthedocs.io/en/latest/"],
  ["Django", "polls/migrations/0001_initial.py", "https://docs.djangoproject.com/en/5.2/intro/tutorial02/#activating-models"],
  ["Rails (a migration)", "db/migrate/20240502100843_create_products.rb", "https://guides.rubyonrails.org/active_record_migrations.html"],
  ["Rails (the schema)", "db/schema.rb", "https://guides.rubyonrails.org/active_record_migrations.html#schema-dumping-and-you"],
  ["Prisma (a migration)", "prisma/migrations/20210313140442_init/migration.sql", "https://www.prisma.io/docs/orm/prisma-migrate/getting-started"],
  ["Prisma (the schema)", "prisma/schema.prisma", "https://www.prisma.io/docs/orm/prisma-schema/overview/location"],
  ["Knex (a migration, default directory `migrations`)", "migrations/20240101120000_create_users.js", "https://knexjs.org/guide/migrations.html"],
  ["Knex (the knexfile)", "knexfile.ts", "https://knexjs.org/guide/migrations.html"],
  ["Sequelize (sequelize-cli)", "migrations/20240101120000-create-user.js", "https://sequelize.org/docs/v6/other-topics/migrations/"],
  ["Sequelize (.sequelizerc paths)", ".sequelizerc", "https://sequelize.org/docs/v6/other-topics/migrations/#the-sequelizerc-file"],
  ["TypeORM", "src/migration/1653142137614-PostRefactoring.ts", "https://typeorm.io/docs/advanced-topics/migrations/"],
  ["golang-migrate", "db/migrations/000001_create_users_table.up.sql", "https://github.com/golang-migrate/migrate/blob/master/GETTING_STARTED.md"],
  ["goose (SQL, default directory: the working directory)", "00001_create_users_table.sql", "https://github.com/pressly/goose#usage"],
  ["goose (Go migration)", "00002_rename_root.go", "https://github.com/pressly/goose/tree/master/examples/go-migrations"],
  ["Atlas (a migration)", "migrations/20240520182336_add_users_table.sql", "https://atlasgo.io/versioned/intro"],
  ["Atlas (the integrity file)", "migrations/atlas.sum", "https://atlasgo.io/concepts/migration-directory-integrity"],
  ["dbmate (a migration)", "db/migrations/20151127184807_create_users_table.sql", "https://github.com/amacneil/dbmate#creating-migrations"],
  ["dbmate (the schema)", "db/schema.sql", "https://github.com/amacneil/dbmate#schema-file"],
  ["EF Core (a migration)", "Migrations/20240101000000_InitialCreate.cs", "https://learn.microsoft.com/en-us/ef/core/managing-schemas/migrations/"],
  ["EF Core (the model snapshot)", "Migrations/BloggingContextModelSnapshot.cs", "https://learn.microsoft.com/en-us/ef/core/managing-schemas/migrations/"],
  ["Diesel (a migration)", "migrations/2024-01-01-000000_create_posts/up.sql", "https://diesel.rs/guides/getting-started"],
  ["Diesel (configuration)", "diesel.toml", "https://diesel.rs/guides/configuring-diesel-cli"],
  ["Diesel (the generated schema)", "src/schema.rs", "https://diesel.rs/guides/schema-in-depth"],
  ["sqlx", "migrations/20240101000000_init.sql", "https://github.com/launchbadge/sqlx/blob/main/sqlx-cli/README.md"],
  ["Ecto", "priv/repo/migrations/20240101000000_create_posts.exs", "https://hexdocs.pm/ecto_sql/Ecto.Migration.html"],
  ["Laravel", "database/migrations/2024_01_01_000000_create_flights_table.php", "https://laravel.com/docs/migrations"],
  ["Doctrine Migrations", "migrations/Version20240101000000.php", "https://www.doctrine-project.org/projects/doctrine-migrations/en/3.8/reference/configuration.html"],
  ["Drizzle (the journal)", "drizzle/meta/_journal.json", "https://orm.drizzle.team/docs/drizzle-kit-generate"],
  ["Drizzle (configuration)", "drizzle.config.ts", "https://orm.drizzle.team/docs/drizzle-config-file"],
  ["Supabase", "supabase/migrations/20240101000000_init.sql", "https://supabase.com/docs/guides/deployment/database-migrations"],
];

/** Paths that look like the above but change no database. */
const LOOK_ALIKES = ["docs/migration-guide.md", "CHANGELOG.md", "src/migrate.ts", "src/schemas/user.ts", "cmd/main.go", "internal/v2_api.go", "config/database.example.md"];

describe("migrations where frameworks put them (recommended preset, rule `database`)", () => {
  const policy = defaultPolicy();

  it.each(LAYOUTS)("%s: %s is high (%s)", (_tool, path) => {
    const { findings, risk } = assessRisk({ policy, files: [file(path)], pr: pr() });
    expect(findings.find((f) => f.rule === "database")).toMatchObject({ level: "high", paths: [path] });
    expect(risk).toBe("high");
  });

  it.each(LOOK_ALIKES)("%s is not a migration", (path) => {
    const { findings } = assessRisk({ policy, files: [file(path)], pr: pr() });
    expect(findings.find((f) => f.rule === "database")).toBeUndefined();
  });
});
