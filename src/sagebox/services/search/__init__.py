"""SageMaker's Search operation over the records of several resource families."""

from sagebox.services.search.service import SearchService

__all__ = ["SearchService"]
