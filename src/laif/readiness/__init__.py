"""AI readiness assessment: a versioned question bank (the six dimensions of the EDIH Digital
Maturity Assessment and four for AI), scores and bands, findings by rule, use cases keyed to
Eurostat's taxonomy, a roadmap routed to the factory's services, peers, progress over time, and
an HTML/PDF report. Front ends call `laif.services.readiness`."""
