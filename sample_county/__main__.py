"""`python -m sample_county --out raw` (make sample)."""

from sample_county.county import main

raise SystemExit(main())
