"""One global policy for lawful requests: country profiles (jurisdictions), a versioned,
declarative policy file (rules), and the engine that proposes a decision from them."""
