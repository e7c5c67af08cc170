"""What the read models do when a person's personal data is erased (docs/data-protection.md).

Every personal column is emptied and the row stays: statuses, sites and counts do not move.
The date of birth goes; the age at registration it gave (carried by the erasure event, not
personal) stands in for it, so an age band at registration is the same before and after,
and a rebuild, which can no longer read the date, agrees with the live model.
"""

from __future__ import annotations

ROSTER = (
    "given_name = NULL, family_name = NULL, given_name_latin = NULL, "
    "family_name_latin = NULL, name_keys = ARRAY[]::text[], "
    "name_order_en = ''::bytea, name_order_ar = ''::bytea, biometric_reference = NULL, "
    "date_of_birth = NULL, date_of_birth_precision = NULL, estimated_age = %(age)s, "
    "birth_date_estimate = (registered_at AT TIME ZONE 'UTC')::date "
    "- make_interval(years => %(age)s::integer), erased = true"
)

OCCUPANCY_COUNTED = (
    "UPDATE {schema}.counted SET date_of_birth = NULL, estimated_age = %(age)s "
    "WHERE person_id = %(id)s"
)
# A rebuild counted the person under 'unknown' until the erasure (the date no longer
# opens): that emptied count goes, as the live model never had it.
OCCUPANCY_EMPTIED = "DELETE FROM {schema}.counts WHERE count = 0"
