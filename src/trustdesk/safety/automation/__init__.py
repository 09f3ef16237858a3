"""Who decided: the rule and model versions behind every automated action, shadow runs of new
versions, and their audited promotion with measured precision."""
